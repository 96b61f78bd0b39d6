//! The store's behaviour, the same on both backends: every test runs against SQLite and
//! PostgreSQL (real servers; see `flightdeck_store::testing`).

use std::{future::Future, sync::Arc};

use chrono::{Duration, Utc};
use flightdeck_model::{Id, Role};
use flightdeck_store::{
    AuditFilter, ConnectOptions, NewApiToken, NewAudit, NewSession, NewUser, Store, StoreError,
    UserPatch, testing,
};
use serde_json::json;

/// Runs `test` once on a fresh SQLite database and once on a fresh PostgreSQL database.
async fn on_both<F, Fut>(test: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite =
        flightdeck_store::connect(&testing::fresh_sqlite_url(), &ConnectOptions::default())
            .await
            .expect("sqlite store");
    test(sqlite).await;
    let url = testing::fresh_postgres_url().await;
    let pg = flightdeck_store::connect(&url, &ConnectOptions::default())
        .await
        .expect("postgres store");
    test(Arc::clone(&pg)).await;
    pg.close().await;
    testing::drop_postgres(&url).await;
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        id: Id::now_v7(),
        username: name.into(),
        password_hash: "$argon2id$x".into(),
        role,
        now: Utc::now(),
    }
}

#[tokio::test]
async fn users_are_unique_by_username_and_round_trip() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        assert_eq!(db.count_users().await.unwrap(), 0);
        let alice = db
            .insert_user(&new_user("alice", Role::Deployer))
            .await
            .unwrap();
        let found = db.user_by_username("alice").await.unwrap().unwrap();
        assert_eq!(found.user, alice);
        assert_eq!(found.password_hash, "$argon2id$x");
        let dup = db
            .insert_user(&new_user("alice", Role::Viewer))
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict { .. }), "{dup:?}");
        assert_eq!(db.count_users().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn user_patches_change_only_the_given_fields() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        let bob = db.insert_user(&new_user("bob", Role::Admin)).await.unwrap();
        assert_eq!(db.count_active_admins().await.unwrap(), 1);
        let patch = UserPatch {
            disabled: Some(true),
            ..Default::default()
        };
        let updated = db.update_user(bob.id, &patch, Utc::now()).await.unwrap();
        assert!(updated.disabled);
        assert_eq!(updated.role, Role::Admin, "role untouched");
        assert_eq!(db.count_active_admins().await.unwrap(), 0);
        let missing = db
            .update_user(Id::now_v7(), &patch, Utc::now())
            .await
            .unwrap_err();
        assert!(matches!(missing, StoreError::NotFound));
    })
    .await;
}

#[tokio::test]
async fn users_page_in_id_order() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        for i in 0..5 {
            db.insert_user(&new_user(&format!("u{i}"), Role::Viewer))
                .await
                .unwrap();
        }
        let first = db.list_users(None, 3).await.unwrap();
        let rest = db.list_users(Some(first[2].id), 3).await.unwrap();
        let names: Vec<_> = first
            .iter()
            .chain(&rest)
            .map(|u| u.username.as_str())
            .collect();
        assert_eq!(names, ["u0", "u1", "u2", "u3", "u4"]);
    })
    .await;
}

#[tokio::test]
async fn a_refresh_token_rotates_once_and_the_old_one_is_remembered() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        let user = db
            .insert_user(&new_user("carol", Role::Viewer))
            .await
            .unwrap();
        let now = Utc::now();
        let session = db
            .insert_session(&NewSession {
                id: Id::now_v7(),
                user_id: user.id,
                refresh_digest: "d1".into(),
                now,
                expires_at: now + Duration::days(1),
            })
            .await
            .unwrap();
        assert!(
            db.rotate_session(session.id, "d1", "d2", now, now + Duration::days(1))
                .await
                .unwrap()
        );
        assert!(
            !db.rotate_session(session.id, "d1", "d3", now, now + Duration::days(1))
                .await
                .unwrap(),
            "a spent digest cannot rotate again"
        );
        let by_old = db.session_by_refresh_digest("d1").await.unwrap().unwrap();
        assert_eq!(by_old.refresh_digest, "d2");
        assert_eq!(by_old.previous_digest.as_deref(), Some("d1"));
        db.revoke_user_sessions(user.id, now).await.unwrap();
        assert!(
            db.session_by_id(session.id)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn api_tokens_are_found_by_digest_listed_newest_first_and_revoked_once() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        let user = db
            .insert_user(&new_user("dave", Role::Deployer))
            .await
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..3 {
            let t = db
                .insert_api_token(&NewApiToken {
                    id: Id::now_v7(),
                    user_id: user.id,
                    name: format!("t{i}"),
                    prefix: "fdt_abcdef".into(),
                    digest: format!("digest{i}"),
                    role: Role::Viewer,
                    now: Utc::now(),
                    expires_at: None,
                })
                .await
                .unwrap();
            assert_eq!(t.owner, "dave");
            ids.push(t.id);
        }
        let found = db.api_token_by_digest("digest1").await.unwrap().unwrap();
        assert_eq!((found.token.id, found.user_id), (ids[1], user.id));
        let listed = db.list_api_tokens(Some(user.id), None, 10).await.unwrap();
        assert_eq!(
            listed.iter().map(|t| t.id).collect::<Vec<_>>(),
            [ids[2], ids[1], ids[0]]
        );
        let page2 = db
            .list_api_tokens(Some(user.id), Some(ids[1]), 10)
            .await
            .unwrap();
        assert_eq!(page2.len(), 1);

        let now = Utc::now();
        assert!(
            db.revoke_api_token(ids[0], now)
                .await
                .unwrap()
                .unwrap()
                .revoked_at
                .is_some()
        );
        assert!(
            db.revoke_api_token(ids[0], now).await.unwrap().is_none(),
            "already revoked"
        );

        db.touch_api_token(ids[1], now, 60).await.unwrap();
        let first_use = db
            .api_token_by_id(ids[1])
            .await
            .unwrap()
            .unwrap()
            .token
            .last_used_at;
        db.touch_api_token(ids[1], now + Duration::seconds(5), 60)
            .await
            .unwrap();
        let second = db
            .api_token_by_id(ids[1])
            .await
            .unwrap()
            .unwrap()
            .token
            .last_used_at;
        assert_eq!(
            first_use, second,
            "touches within the interval are not written"
        );
    })
    .await;
}

#[tokio::test]
async fn audit_entries_filter_by_actor_action_prefix_and_time_and_page_newest_first() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        let t0 = Utc::now();
        for (i, (actor, action)) in [
            ("ann", "token.create"),
            ("ben", "token.revoke"),
            ("ann", "user.update"),
            ("ann", "token.revoke"),
        ]
        .into_iter()
        .enumerate()
        {
            let entry = NewAudit {
                actor: actor.into(),
                action: action.into(),
                target_type: "x".into(),
                target_id: i.to_string(),
                before: Some(json!({ "n": i })),
                ..Default::default()
            };
            db.insert_audit(&entry, t0 + Duration::seconds(i as i64))
                .await
                .unwrap();
        }
        let all = db.list_audit(&AuditFilter::default(), 10).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.target_id.as_str()).collect::<Vec<_>>(),
            ["3", "2", "1", "0"]
        );
        assert_eq!(all[3].before, Some(json!({ "n": 0 })));

        let ann_tokens = AuditFilter {
            actor: Some("ann".into()),
            action: Some("token.".into()),
            ..Default::default()
        };
        let got = db.list_audit(&ann_tokens, 10).await.unwrap();
        assert_eq!(
            got.iter().map(|e| e.target_id.as_str()).collect::<Vec<_>>(),
            ["3", "0"]
        );

        let exact = AuditFilter {
            action: Some("token.revoke".into()),
            ..Default::default()
        };
        assert_eq!(db.list_audit(&exact, 10).await.unwrap().len(), 2);

        let window = AuditFilter {
            since: Some(t0 + Duration::seconds(1)),
            until: Some(t0 + Duration::seconds(3)),
            ..Default::default()
        };
        let got = db.list_audit(&window, 10).await.unwrap();
        assert_eq!(
            got.iter().map(|e| e.target_id.as_str()).collect::<Vec<_>>(),
            ["2", "1"]
        );

        let after_first_page = AuditFilter {
            before_id: Some(all[1].id),
            ..Default::default()
        };
        let got = db.list_audit(&after_first_page, 10).await.unwrap();
        assert_eq!(
            got.iter().map(|e| e.target_id.as_str()).collect::<Vec<_>>(),
            ["1", "0"]
        );
    })
    .await;
}

#[tokio::test]
async fn events_get_increasing_seqs_replay_after_a_seq_and_prune_by_age() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        assert_eq!(db.event_bounds().await.unwrap(), None);
        let mut seqs = Vec::new();
        for i in 0..4 {
            let at = match i {
                0 => Utc::now() - Duration::days(8),
                1 => Utc::now() - Duration::days(2),
                _ => Utc::now(),
            };
            let mut tx = store.begin().await.unwrap();
            seqs.push(
                tx.insert_event("test.happened", &json!({ "i": i }), at)
                    .await
                    .unwrap()
                    .seq,
            );
            tx.commit().await.unwrap();
        }
        assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{seqs:?}");
        let after = db.events_after(seqs[1], 10).await.unwrap();
        assert_eq!(
            after
                .iter()
                .map(|e| e.data["i"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [2, 3]
        );
        assert_eq!(after[0].kind, "test.happened");

        // The notifier has planned none of them: past the retention, only the one older than
        // the retention plus the grace goes.
        let pruned = db
            .prune_events(Utc::now() - Duration::days(1))
            .await
            .unwrap();
        assert_eq!(pruned, 1);
        assert_eq!(db.event_bounds().await.unwrap(), Some((seqs[1], seqs[3])));
        // Once it has planned them, the retention alone decides.
        db.set_notifier_cursor("notifier", seqs[3], Utc::now())
            .await
            .unwrap();
        let pruned = db
            .prune_events(Utc::now() - Duration::days(1))
            .await
            .unwrap();
        assert_eq!(pruned, 1);
        assert_eq!(db.event_bounds().await.unwrap(), Some((seqs[2], seqs[3])));
    })
    .await;
}

#[tokio::test]
async fn a_transaction_dropped_without_commit_writes_nothing() {
    on_both(|store| async move {
        {
            let mut tx = store.begin().await.unwrap();
            tx.insert_user(&new_user("ghost", Role::Viewer))
                .await
                .unwrap();
            tx.insert_event("x.y", &json!({}), Utc::now())
                .await
                .unwrap();
        }
        let mut db = store.conn().await.unwrap();
        assert_eq!(db.count_users().await.unwrap(), 0);
        assert_eq!(db.event_bounds().await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn settings_keep_the_first_value_written() {
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        assert_eq!(db.get_setting("jwt_secret").await.unwrap(), None);
        assert_eq!(
            db.init_setting("jwt_secret", "first", Utc::now())
                .await
                .unwrap(),
            "first"
        );
        assert_eq!(
            db.init_setting("jwt_secret", "second", Utc::now())
                .await
                .unwrap(),
            "first"
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_event_writers_commit_in_seq_order() {
    // The live feed relies on this: a reader that has seen seq N has seen everything below N.
    on_both(|store| async move {
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let mut tx = store.begin().await.unwrap();
                    let ev = tx
                        .insert_event("race.x", &json!({ "i": i }), Utc::now())
                        .await
                        .unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis((i % 3) as u64)).await;
                    tx.commit().await.unwrap();
                    ev.seq
                })
            })
            .collect();
        let mut db = store.conn().await.unwrap();
        for task in tasks {
            let seq = task.await.unwrap();
            let visible = db.events_after(0, 1000).await.unwrap();
            assert!(visible.last().is_some_and(|e| e.seq >= seq));
            // No holes: a later seq never becomes visible before an earlier one.
            assert!(
                visible.windows(2).all(|w| w[1].seq == w[0].seq + 1),
                "{:?}",
                visible.iter().map(|e| e.seq).collect::<Vec<_>>()
            );
        }
        assert_eq!(db.events_after(0, 1000).await.unwrap().len(), 20);
    })
    .await;
}

#[tokio::test]
async fn connecting_to_an_unknown_scheme_or_in_memory_sqlite_is_refused() {
    for url in ["mysql://x", "sqlite::memory:"] {
        let err = flightdeck_store::connect(url, &ConnectOptions::default())
            .await
            .err()
            .unwrap();
        assert!(matches!(err, StoreError::Config(_)), "{url}: {err:?}");
    }
}

#[tokio::test]
async fn a_batch_of_deliveries_stores_each_once_and_says_which_were_new() {
    use flightdeck_store::NewInbox;
    on_both(|store| async move {
        let delivery = |id: &str| NewInbox {
            id: Id::now_v7(),
            source: "github".into(),
            delivery_id: id.into(),
            event_type: Some("deployment".into()),
            body: "{}".into(),
            now: Utc::now(),
        };
        let mut db = store.conn().await.unwrap();
        assert!(db.insert_inbox(&delivery("a")).await.unwrap());
        let batch = [delivery("a"), delivery("b"), delivery("c"), delivery("b")];
        let inserted = db.insert_inbox_batch(&batch).await.unwrap();
        assert_eq!(inserted, [false, true, true, false]);
        assert_eq!(db.inbox_depth().await.unwrap(), 3);
        assert!(db.insert_inbox_batch(&[]).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_oldest_pending_delivery_dates_the_backlog() {
    use chrono::DurationRound;
    use flightdeck_store::{InboxState, NewInbox};
    on_both(|store| async move {
        // Stored to the microsecond.
        let t0 = Utc::now()
            .duration_trunc(Duration::microseconds(1))
            .unwrap();
        let delivery = |id: &str, minutes_ago: i64| NewInbox {
            id: Id::now_v7(),
            source: "github".into(),
            delivery_id: id.into(),
            event_type: Some("deployment".into()),
            body: "{}".into(),
            now: t0 - Duration::minutes(minutes_ago),
        };
        let mut db = store.conn().await.unwrap();
        assert_eq!(db.inbox_oldest_pending().await.unwrap(), None);
        let (late, early) = (delivery("late", 1), delivery("early", 5));
        db.insert_inbox_batch(&[late.clone(), early.clone()])
            .await
            .unwrap();
        assert_eq!(db.inbox_oldest_pending().await.unwrap(), Some(early.now));
        db.finish_inbox(early.id, InboxState::Applied, None, t0)
            .await
            .unwrap();
        assert_eq!(db.inbox_oldest_pending().await.unwrap(), Some(late.now));
        db.finish_inbox(late.id, InboxState::Failed, Some("bad"), t0)
            .await
            .unwrap();
        assert_eq!(db.inbox_oldest_pending().await.unwrap(), None);
    })
    .await;
}

fn new_component(slug: &str) -> flightdeck_store::NewComponent {
    flightdeck_store::NewComponent {
        id: Id::now_v7(),
        slug: slug.into(),
        name: slug.into(),
        group: Some("payments".into()),
        service: None,
        tier: Some(1),
        depends_on: vec!["db".into()],
        matchers: vec![r#"service="checkout-api""#.into()],
        metric_queries: vec![],
        log_query: None,
        maintenance: vec![],
        status: flightdeck_model::ComponentStatus::Operational,
        status_reasons: vec![],
        now: Utc::now(),
    }
}

fn new_alert(fingerprint: &str, starts_at: chrono::DateTime<Utc>) -> flightdeck_model::Alert {
    use flightdeck_model::{AlertSeverity, AlertSourceStatus, TriageState};
    flightdeck_model::Alert {
        id: Id::now_v7(),
        source: "alertmanager".into(),
        fingerprint: fingerprint.into(),
        name: "HighErrorRate".into(),
        severity: AlertSeverity::Critical,
        source_status: AlertSourceStatus::Firing,
        state: TriageState::Open,
        escalation_level: 0,
        component: Some("checkout".into()),
        labels: [("alertname".to_owned(), "HighErrorRate".to_owned())].into(),
        annotations: Default::default(),
        generator_url: Some(format!(
            "http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22{fingerprint}%22%7D"
        )),
        starts_at,
        ends_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        last_note: None,
        received_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

#[tokio::test]
async fn components_round_trip_are_unique_by_slug_and_keep_their_status() {
    use flightdeck_model::ComponentStatus;
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        let created = db
            .insert_component(&new_component("checkout"))
            .await
            .unwrap();
        assert_eq!(created.depends_on, vec!["db".to_owned()]);
        assert_eq!(created.group.as_deref(), Some("payments"));
        let dup = db
            .insert_component(&new_component("checkout"))
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict { .. }), "{dup:?}");
        db.set_component_status(
            created.id,
            ComponentStatus::MajorOutage,
            &["critical alert".to_owned()],
            Utc::now(),
        )
        .await
        .unwrap();
        let patch = flightdeck_store::ComponentPatch {
            name: Some("Checkout".into()),
            ..Default::default()
        };
        let updated = db
            .update_component(created.id, &patch, Utc::now())
            .await
            .unwrap();
        assert_eq!(updated.name, "Checkout");
        assert_eq!(updated.tier, Some(1), "untouched");
        assert_eq!(updated.status, ComponentStatus::MajorOutage);
        assert_eq!(updated.status_reasons, vec!["critical alert".to_owned()]);
        // Some(None) removes an optional field; None leaves it.
        let patch = flightdeck_store::ComponentPatch {
            tier: Some(None),
            group: Some(Some("payments".into())),
            ..Default::default()
        };
        let updated = db
            .update_component(created.id, &patch, Utc::now())
            .await
            .unwrap();
        assert_eq!(updated.tier, None);
        assert_eq!(updated.group.as_deref(), Some("payments"));
        assert_eq!(updated.name, "Checkout", "untouched");
        assert_eq!(db.list_components().await.unwrap().len(), 1);
    })
    .await;
}

/// One episode through the batch insert, as the alert writer stores them.
async fn insert_alert(
    db: &mut dyn flightdeck_store::Conn,
    alert: &flightdeck_model::Alert,
) -> flightdeck_store::StoreResult<flightdeck_model::Alert> {
    db.insert_alerts(std::slice::from_ref(alert)).await?;
    Ok(alert.clone())
}

#[tokio::test]
async fn an_alert_episode_is_found_by_fingerprint_and_start_to_the_millisecond_and_stored_once() {
    use flightdeck_model::{AlertSourceStatus, TriageState};
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        // Alertmanager sends nanoseconds; the episode key keeps milliseconds.
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let alert = new_alert("fp1", start);
        db.insert_alerts(std::slice::from_ref(&alert))
            .await
            .unwrap();
        let found = db
            .alert_episode("alertmanager", "fp1", start)
            .await
            .unwrap()
            .expect("found with the nanosecond start");
        assert_eq!(found.id, alert.id);
        assert_eq!(found.generator_url, alert.generator_url);
        assert!(
            db.alert_episode("alertmanager", "fp1", start + Duration::minutes(5))
                .await
                .unwrap()
                .is_none()
        );
        let dup = insert_alert(&mut *db, &new_alert("fp1", start))
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict { .. }), "{dup:?}");
        // A re-firing is a new episode.
        insert_alert(&mut *db, &new_alert("fp1", start + Duration::hours(1)))
            .await
            .unwrap();
        assert_eq!(db.live_alerts("checkout").await.unwrap().len(), 2);

        let resolved = flightdeck_model::Alert {
            source_status: AlertSourceStatus::Resolved,
            state: TriageState::Resolved,
            ends_at: Some(start + Duration::minutes(3)),
            ..alert.clone()
        };
        let saved = db.update_alert(&resolved).await.unwrap();
        assert_eq!(saved.state, TriageState::Resolved);
        assert_eq!(db.live_alerts("checkout").await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn alerts_filter_by_state_severity_and_component_and_page_newest_first() {
    use flightdeck_model::{AlertSeverity, TriageState};
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        let t0 = Utc::now();
        let mut ids = Vec::new();
        for i in 0..3 {
            let mut a = new_alert(&format!("fp{i}"), t0 + Duration::seconds(i));
            if i == 2 {
                a.severity = AlertSeverity::Warning;
                a.component = None;
                a.generator_url = None;
            }
            ids.push(insert_alert(&mut *db, &a).await.unwrap().id);
        }
        let all = db.list_alerts(&Default::default(), 10).await.unwrap();
        assert_eq!(
            all.iter().map(|a| a.id).collect::<Vec<_>>(),
            vec![ids[2], ids[1], ids[0]]
        );
        // Batch inserts carry the source link, and its absence, through both backends.
        assert_eq!(all[0].generator_url, None);
        assert!(
            all[1]
                .generator_url
                .as_deref()
                .unwrap()
                .ends_with("%22fp1%22%7D")
        );
        let warnings = flightdeck_store::AlertFilter {
            severity: Some(AlertSeverity::Warning),
            ..Default::default()
        };
        assert_eq!(db.list_alerts(&warnings, 10).await.unwrap().len(), 1);
        let checkout = flightdeck_store::AlertFilter {
            component: Some("checkout".into()),
            state: Some(TriageState::Open),
            before_id: Some(ids[1]),
            ..Default::default()
        };
        let page = db.list_alerts(&checkout, 10).await.unwrap();
        assert_eq!(page.iter().map(|a| a.id).collect::<Vec<_>>(), vec![ids[0]]);

        let event = flightdeck_model::AlertEvent {
            id: Id::now_v7(),
            alert_id: ids[0],
            at: Utc::now(),
            actor: "alice".into(),
            action: "acknowledge".into(),
            from_state: Some(TriageState::Open),
            to_state: TriageState::Acknowledged,
            escalation_level: 0,
            target: None,
            note: Some("on it".into()),
        };
        db.insert_alert_event(&event).await.unwrap();
        let stored = db.alert_events(ids[0]).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!((stored[0].id, &stored[0].note), (event.id, &event.note));
        assert_eq!(stored[0].to_state, TriageState::Acknowledged);
    })
    .await;
}

#[tokio::test]
async fn live_alert_counts_group_by_component_and_severity_and_skip_resolved_ones() {
    use flightdeck_model::{AlertSeverity, AlertSourceStatus, TriageState};
    on_both(|store| async move {
        let mut db = store.conn().await.unwrap();
        let t0 = Utc::now() - Duration::minutes(30);
        let make = |fp: &str, component: Option<&str>, severity, state, status| {
            let mut a = new_alert(fp, t0);
            a.component = component.map(str::to_owned);
            a.severity = severity;
            a.state = state;
            a.source_status = status;
            a
        };
        let (firing, resolved) = (AlertSourceStatus::Firing, AlertSourceStatus::Resolved);
        let rows = [
            make(
                "a",
                Some("checkout"),
                AlertSeverity::Critical,
                TriageState::Open,
                firing,
            ),
            make(
                "b",
                Some("checkout"),
                AlertSeverity::Critical,
                TriageState::Acknowledged,
                firing,
            ),
            make(
                "c",
                Some("checkout"),
                AlertSeverity::Info,
                TriageState::Open,
                firing,
            ),
            make(
                "d",
                Some("checkout"),
                AlertSeverity::Critical,
                TriageState::Resolved,
                firing,
            ),
            make(
                "e",
                Some("checkout"),
                AlertSeverity::Critical,
                TriageState::Open,
                resolved,
            ),
            make(
                "f",
                Some("db"),
                AlertSeverity::Warning,
                TriageState::Escalated,
                firing,
            ),
            make(
                "g",
                None,
                AlertSeverity::Critical,
                TriageState::Open,
                firing,
            ),
        ];
        for a in &rows {
            insert_alert(&mut *db, a).await.unwrap();
        }
        let counts = db.live_alert_counts().await.unwrap();
        assert_eq!(counts.len(), 2, "{counts:?}");
        let checkout = counts["checkout"];
        assert_eq!(
            (checkout.critical, checkout.warning, checkout.info),
            (2, 0, 1)
        );
        assert_eq!(counts["db"].warning, 1);
        // The summary counts the same live alerts, routed or not, by triage state.
        let summary = db.live_alert_summary().await.unwrap();
        let c = |n: &flightdeck_model::AlertCounts| (n.critical, n.warning, n.info);
        assert_eq!(c(&summary.open), (2, 0, 1), "{summary:?}");
        assert_eq!(c(&summary.acknowledged), (1, 0, 0), "{summary:?}");
        assert_eq!(c(&summary.escalated), (0, 1, 0), "{summary:?}");

        // Escalation candidates: open, firing, critical, started by the cut-off, oldest first.
        let due = db.escalation_candidates(Utc::now(), 100).await.unwrap();
        let fps: Vec<_> = due.iter().map(|a| a.fingerprint.as_str()).collect();
        assert_eq!(fps.len(), 2, "{fps:?}");
        assert!(fps.contains(&"a") && fps.contains(&"g"), "{fps:?}");
        assert!(
            db.escalation_candidates(t0 - Duration::minutes(1), 100)
                .await
                .unwrap()
                .is_empty(),
            "nothing started before the cut-off"
        );
    })
    .await;
}

#[tokio::test]
async fn alert_batches_are_stored_found_and_refused_whole() {
    on_both(|store| async move {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let batch: Vec<_> = (0..3)
            .map(|i| new_alert(&format!("b{i}"), start + Duration::seconds(i)))
            .collect();
        let mut tx = store.begin().await.unwrap();
        tx.insert_alerts(&batch).await.unwrap();
        let events: Vec<_> = (0..3)
            .map(|i| ("alert.updated", json!({ "i": i })))
            .collect();
        let live = tx.insert_events(events.clone(), Utc::now()).await.unwrap();
        tx.commit().await.unwrap();
        // In the order given, with increasing sequence numbers.
        assert_eq!(
            live.iter()
                .map(|e| e.data["i"].as_i64().unwrap())
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(live.windows(2).all(|w| w[0].seq < w[1].seq));

        let mut db = store.conn().await.unwrap();
        // Found by the nanosecond start; an unknown key finds nothing.
        let keys = [
            ("alertmanager", "b0", start),
            ("alertmanager", "b2", start + Duration::seconds(2)),
            ("alertmanager", "b1", start + Duration::minutes(9)),
        ];
        let mut found: Vec<_> = db
            .alert_episodes(&keys)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.fingerprint)
            .collect();
        found.sort();
        assert_eq!(found, ["b0", "b2"]);

        // One episode already stored: the whole batch is a conflict and none of it is stored.
        let again = vec![
            new_alert("b3", start),
            new_alert("b1", start + Duration::seconds(1)),
        ];
        let err = db.insert_alerts(&again).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
        assert!(
            db.alert_episodes(&[("alertmanager", "b3", start)])
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}
