//! The WebSocket live feed: authentication first, the envelope, replay, filters, back-pressure,
//! and fan-out between two replicas through Redis.

use std::time::Duration;

use chrono::Utc;
use flightdeck_model::{CreateApiToken, LiveEvent, close_code};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use crate::helpers::*;

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(app_url: &str) -> Ws {
    let url = format!("{}/api/v1/stream", app_url.replace("http://", "ws://"));
    connect_async(url).await.expect("websocket connects").0
}

async fn hello(ws: &mut Ws, token: &str, since: Option<i64>, topics: &[&str]) {
    let msg = json!({ "token": token, "since": since, "topics": topics }).to_string();
    ws.send(Message::Text(msg.into())).await.unwrap();
}

enum Next {
    Event(LiveEvent),
    Closed(u16),
    Nothing,
}

async fn next(ws: &mut Ws, wait: Duration) -> Next {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return Next::Nothing,
            Ok(Some(Ok(Message::Text(text)))) => {
                return Next::Event(serde_json::from_str(&text).unwrap());
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Next::Closed(frame.map_or(1005, |f| f.code.into()));
            }
            Ok(Some(Ok(_))) => continue,
            Ok(None) | Ok(Some(Err(_))) => return Next::Closed(1006),
        }
    }
}

async fn next_event(ws: &mut Ws) -> LiveEvent {
    match next(ws, Duration::from_secs(10)).await {
        Next::Event(e) => e,
        Next::Closed(code) => panic!("socket closed ({code}) while waiting for an event"),
        Next::Nothing => panic!("no event within 10 s"),
    }
}

async fn create_token(app: &TestApp, name: &str) -> flightdeck_model::CreatedApiToken {
    app.admin
        .create_token(&CreateApiToken {
            name: name.into(),
            role: None,
            expires_in_days: None,
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn no_event_is_sent_before_a_valid_token_and_a_bad_token_closes_with_4401() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut ws = open(&app.url).await;
    create_token(&app, "while unauthenticated").await;
    assert!(matches!(
        next(&mut ws, Duration::from_millis(700)).await,
        Next::Nothing
    ));
    hello(&mut ws, "fdt_not-a-real-token", Some(0), &[]).await;
    match next(&mut ws, Duration::from_secs(5)).await {
        Next::Closed(code) => assert_eq!(code, close_code::UNAUTHORIZED),
        _ => panic!("expected the socket to close with 4401, and no event"),
    }

    let mut ws = open(&app.url).await;
    ws.send(Message::Text("not json".into())).await.unwrap();
    assert!(matches!(
        next(&mut ws, Duration::from_secs(5)).await,
        Next::Closed(close_code::BAD_HELLO)
    ));
}

#[tokio::test]
async fn events_arrive_live_in_the_contract_envelope() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let mut ws = open(&app.url).await;
        hello(&mut ws, app.admin.token().unwrap(), None, &[]).await;
        // Give the server a moment to subscribe; then a change must be pushed, not polled for.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let created = create_token(&app, "live one").await;
        let event = next_event(&mut ws).await;
        assert_eq!(event.kind, "audit.created");
        assert_eq!(event.data["action"], "token.create");
        assert_eq!(event.data["target_id"], created.token.id.to_string());
        assert!(event.seq > 0);
        assert!(event.at <= Utc::now());
    }
}

#[tokio::test]
async fn a_reconnecting_client_is_replayed_exactly_what_it_missed() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await;
        let mut ws = open(&app.url).await;
        hello(&mut ws, app.admin.token().unwrap(), None, &[]).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        create_token(&app, "seen").await;
        let seen = next_event(&mut ws).await;
        ws.close(None).await.unwrap();

        let mut missed = Vec::new();
        for i in 0..3 {
            missed.push(
                create_token(&app, &format!("missed {i}"))
                    .await
                    .token
                    .id
                    .to_string(),
            );
        }
        let mut ws = open(&app.url).await;
        hello(
            &mut ws,
            app.admin.token().unwrap(),
            Some(seen.seq),
            &["audit"],
        )
        .await;
        let mut replayed = Vec::new();
        let mut last = seen.seq;
        for _ in 0..3 {
            let e = next_event(&mut ws).await;
            assert!(e.seq > last, "in order");
            last = e.seq;
            replayed.push(e.data["target_id"].as_str().unwrap().to_owned());
        }
        assert_eq!(replayed, missed);
        assert!(
            matches!(
                next(&mut ws, Duration::from_millis(300)).await,
                Next::Nothing
            ),
            "no duplicates"
        );
    }
}

#[tokio::test]
async fn topic_filters_limit_what_is_sent() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut other = open(&app.url).await;
    hello(
        &mut other,
        app.admin.token().unwrap(),
        None,
        &["deployment"],
    )
    .await;
    let mut exact = open(&app.url).await;
    hello(
        &mut exact,
        app.admin.token().unwrap(),
        None,
        &["audit.created"],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    create_token(&app, "filtered").await;
    assert_eq!(next_event(&mut exact).await.kind, "audit.created");
    assert!(matches!(
        next(&mut other, Duration::from_millis(500)).await,
        Next::Nothing
    ));
}

#[tokio::test]
async fn a_since_older_than_the_retained_history_gets_a_resync() {
    let app = spawn_app(Backend::Postgres).await;
    create_token(&app, "recent").await;
    // Pretend the retention period (and the notifier's grace) has passed for everything but
    // the newest event.
    let mut db = app.store.conn().await.unwrap();
    db.prune_events(Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    let (min, max) = db.event_bounds().await.unwrap().unwrap();
    assert_eq!(min, max);
    assert!(min > 2);

    let mut ws = open(&app.url).await;
    hello(&mut ws, app.admin.token().unwrap(), Some(0), &[]).await;
    let first = next_event(&mut ws).await;
    assert_eq!(first.kind, "stream.resync");
    assert_eq!(first.seq, max);
}

#[tokio::test]
async fn a_client_that_falls_behind_is_disconnected_instead_of_buffered() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.live.client_buffer = 16).await;
    let mut ws = open(&app.url).await;
    hello(&mut ws, app.admin.token().unwrap(), None, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let head = app
        .store
        .conn()
        .await
        .unwrap()
        .event_bounds()
        .await
        .unwrap()
        .map_or(0, |b| b.1);
    let padding = "x".repeat(8 * 1024);
    let burst: Vec<_> = (1..=5000)
        .map(|i| LiveEvent {
            seq: head + i,
            kind: "test.burst".into(),
            at: Utc::now(),
            data: json!({ "pad": padding }),
        })
        .collect();
    app.hub.publish(burst);
    let mut received = 0;
    let code = loop {
        match next(&mut ws, Duration::from_secs(10)).await {
            Next::Event(_) => received += 1,
            Next::Closed(code) => break code,
            Next::Nothing => panic!("neither events nor a close after {received} events"),
        }
    };
    assert_eq!(code, close_code::TOO_SLOW);
    assert!(received < 5000, "received {received}");
}

#[tokio::test]
async fn two_replicas_on_postgres_share_live_events_through_redis() {
    let redis_url = "redis://127.0.0.1:6379";
    let client = deadpool_redis::redis::Client::open(redis_url).unwrap();
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| {
            panic!("Redis is required for this test and is not reachable at {redis_url}: {e}")
        });
    let _: String = deadpool_redis::redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .unwrap();

    let database_url = database_url(Backend::Postgres).await;
    let replica = |db: String| {
        let mut s = test_settings(db);
        s.redis_url = Some(flightdeck_server::settings::Secret::new(redis_url));
        // So only Redis can carry the event in time: the database poll would take an hour.
        s.live.db_poll_secs = 3600;
        s
    };
    let a = spawn_with_settings(replica(database_url.clone())).await;
    let b = spawn_with_settings(replica(database_url)).await;
    assert!(b.client.info().await.unwrap().redis);

    let mut ws = open(&b.url).await;
    hello(&mut ws, b.admin.token().unwrap(), None, &["audit"]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let created = create_token(&a, "made on replica a").await;
    loop {
        let event = next_event(&mut ws).await;
        if event.data["target_id"] == created.token.id.to_string() {
            assert_eq!(event.data["action"], "token.create");
            break;
        }
    }
}
