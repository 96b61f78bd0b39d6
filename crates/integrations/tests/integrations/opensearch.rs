//! OpenSearch and Elasticsearch `_search`, against response bodies.
//!
//! Recorded bodies (`tests/fixtures/recorded/`, provenance in `recorded/SOURCES.md`), served
//! verbatim: `elasticsearch_search_filebeat_tikv_pingcap.json`, an Elasticsearch 7.x `?pretty`
//! answer holding one Filebeat document (ECS `log.level` nested, `sort` on `@timestamp`);
//! `opensearch_search_failed_shard_docs.json`, an OpenSearch answer with one failed shard
//! (`_shards.failed: 1`, `failures[]`) next to a real hit;
//! `elasticsearch_error_401_missing_credentials_kubedb.json`, Elasticsearch's 401
//! `security_exception` to a request without credentials (a `curl` transcript in KubeDB's docs);
//! `elasticsearch_error_search_phase_painless_kibana.json` and
//! `elasticsearch_error_parsing_exception_kibana.json`, two 400 search errors kept by Kibana as
//! test data; `elasticsearch_error_query_string_syntax_magiclegacy.json`, Elasticsearch's 400 for a
//! `query_string` syntax error (`search_phase_execution_exception`, root cause
//! `query_shard_exception`, the Lucene parser's message in `caused_by`), re-indented and kept in
//! a PHP client's tests; `opendistro_security_401_unauthorized.txt` and
//! `opensearch_security_401_authentication_finally_failed.txt`, the security plugin's plain-text
//! 401 bodies as quoted in two issue threads (not files; see `SOURCES.md`).
//!
//! Hand-written from the documented shapes, because no recording with a traceable source was
//! found (see `SOURCES.md`): `opensearch_search_page{1,2}.json` (and the `timed_out: true`
//! variant edited from page 2), `elasticsearch_search_partial.json` and
//! `elasticsearch_error_401.json` (`security_exception` for a refused API key).

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use flightdeck_integrations::Auth;
use flightdeck_integrations::logs::opensearch::encode_cursor;
use flightdeck_integrations::logs::{LogError, LogLevel, LogSource, OpenSearch};
use serde_json::json;

use crate::support::{Reply, TestServer, edited, fixture};

const QUERY: &str = r#"service.name:"checkout-api" AND NOT level:debug"#;

fn since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
}

fn until() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 5, 0).unwrap()
}

fn source(server: &TestServer, auth: Auth) -> LogSource {
    LogSource::Search(
        OpenSearch::new(&server.url, "logs-checkout-*", Duration::from_secs(5), auth).unwrap(),
    )
}

fn basic() -> Auth {
    Auth::Basic {
        username: "flightdeck".into(),
        password: "hunter2".into(),
    }
}

#[tokio::test]
async fn a_search_posts_a_bool_filter_with_a_timestamp_range_newest_first_and_reads_the_hits() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        fixture("opensearch_search_page1.json"),
    )])
    .await;

    let page = source(&server, basic())
        .search(QUERY, since(), until(), 2, None)
        .await
        .unwrap();

    let req = server.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path(), "/logs-checkout-*/_search");
    assert_eq!(
        req.header("authorization"),
        Some("Basic ZmxpZ2h0ZGVjazpodW50ZXIy")
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body = req.json();
    assert_eq!(body["size"], 2);
    assert_eq!(
        body["query"]["bool"]["filter"],
        json!([
            { "query_string": { "query": QUERY } },
            { "range": { "@timestamp": {
                "gte": "2026-11-25T10:00:00.000Z",
                "lte": "2026-11-25T10:05:00.000Z",
                "format": "strict_date_optional_time",
            } } },
        ])
    );
    assert_eq!(body["sort"], json!([{ "@timestamp": { "order": "desc" } }]));
    assert!(body.get("search_after").is_none());

    assert!(!page.partial);
    assert_eq!(page.lines.len(), 2);
    let first = &page.lines[0];
    assert_eq!(
        first.at,
        Utc.timestamp_millis_opt(1_795_601_099_512).unwrap()
    );
    assert_eq!(first.message, "payment provider timed out after 5000 ms");
    assert_eq!(first.level, Some(LogLevel::Error), "from ECS log.level");
    assert_eq!(first.fields["service"]["name"], "checkout-api");
    assert_eq!(first.fields["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(first.fields["_id"], "kX2PeJkBf0kyp0k7VPq1");
    assert!(!first.fields.contains_key("message") && !first.fields.contains_key("@timestamp"));
    assert_eq!(
        page.lines[1].level,
        Some(LogLevel::Warn),
        "from level: warning"
    );
    assert!(
        page.next_cursor.is_some(),
        "a full page may have more behind it"
    );
}

#[tokio::test]
async fn the_next_page_sends_the_last_hits_sort_values_as_search_after() {
    let server = TestServer::replaying(vec![
        Reply::json(200, fixture("opensearch_search_page1.json")),
        Reply::json(200, fixture("opensearch_search_page2.json")),
    ])
    .await;
    let logs = source(&server, basic());

    let first = logs.search(QUERY, since(), until(), 2, None).await.unwrap();
    let cursor = first.next_cursor.expect("a cursor after a full page");
    let second = logs
        .search(QUERY, since(), until(), 2, Some(&cursor))
        .await
        .unwrap();

    let sent = server.requests();
    assert_eq!(
        sent[1].json()["search_after"],
        json!([1_795_601_098_001_i64])
    );
    assert_eq!(sent[1].json()["query"], sent[0].json()["query"]);
    assert_eq!(second.lines.len(), 1);
    assert_eq!(second.lines[0].message, "INFO order 8841 placed");
    assert_eq!(
        second.lines[0].level,
        Some(LogLevel::Info),
        "sniffed from the line"
    );
    assert_eq!(second.next_cursor, None, "a short page is the last");
}

#[tokio::test]
async fn failed_shards_or_a_timed_out_search_flag_the_page_as_partial() {
    let timed_out = edited("opensearch_search_page2.json", |v| {
        v["timed_out"] = json!(true)
    });
    let server = TestServer::replaying(vec![
        Reply::json(200, fixture("elasticsearch_search_partial.json")),
        Reply::json(200, timed_out),
    ])
    .await;
    let logs = source(&server, basic());

    let shards = logs
        .search(QUERY, since(), until(), 50, None)
        .await
        .unwrap();
    let slow = logs
        .search(QUERY, since(), until(), 50, None)
        .await
        .unwrap();

    assert!(shards.partial);
    assert_eq!(shards.lines[0].message, "connection pool exhausted");
    assert_eq!(
        shards.lines[0].level,
        Some(LogLevel::Error),
        "from a dotted log.level"
    );
    assert!(slow.partial);
    assert_eq!(slow.lines.len(), 1);
}

/// Serves `reply` to one search for [`QUERY`] and returns the server (for the request it got)
/// and the error the search ended in.
async fn refused(reply: Reply, auth: Auth) -> (TestServer, LogError) {
    let server = TestServer::replaying(vec![reply]).await;
    let err = source(&server, auth)
        .search(QUERY, since(), until(), 50, None)
        .await
        .unwrap_err();
    (server, err)
}

/// A `query_string` syntax error, as Elasticsearch answered it (recorded by a third party for
/// the URI search `q=name:llanowar AND power:[1,2]`; see `recorded/SOURCES.md`): a 400
/// `search_phase_execution_exception` whose root cause is a `query_shard_exception`.
#[tokio::test]
async fn a_recorded_query_string_syntax_error_is_a_query_error_with_its_root_cause() {
    const BAD: &str = "name:llanowar AND power:[1,2]";
    let server = TestServer::replaying(vec![Reply::json(
        400,
        fixture("recorded/elasticsearch_error_query_string_syntax_magiclegacy.json"),
    )])
    .await;

    let err = source(&server, basic())
        .search(BAD, since(), until(), 50, None)
        .await
        .unwrap_err();

    assert_eq!(
        server.only_request().json()["query"]["bool"]["filter"][0],
        json!({ "query_string": { "query": BAD } }),
        "the query Elasticsearch refused is sent as it was typed"
    );
    match &err {
        LogError::Query {
            status,
            kind,
            reason,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(kind.as_deref(), Some("search_phase_execution_exception"));
            // The root cause names the query. Where the parser stopped (column 28, expecting
            // `TO`) is only in the failed shard's `caused_by`, which is not read.
            assert_eq!(
                reason,
                "all shards failed: Failed to parse query [name:llanowar AND power:[1,2]]"
            );
        }
        other => panic!("expected a query error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "the log store refused the search (HTTP 400, search_phase_execution_exception): \
         all shards failed: Failed to parse query [name:llanowar AND power:[1,2]]"
    );
}

#[tokio::test]
async fn a_refused_api_key_is_an_authentication_error_and_the_key_is_sent_as_apikey() {
    let auth = Auth::api_key_from_parts("VuaCfGcBCdbkQm-e5aOx", "ui2lp2axTNmsyakw9tvNnw");
    let (server, err) = refused(
        Reply::json(401, fixture("elasticsearch_error_401.json")),
        auth,
    )
    .await;

    assert_eq!(
        server.only_request().header("authorization"),
        Some("ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==")
    );
    match err {
        LogError::Unauthorized { status, reason } => {
            assert_eq!(status, 401);
            assert!(reason.starts_with("unable to authenticate"), "{reason}");
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
}

/// The security plugin's 401 with the headers of the recorded answer (Open Distro Security,
/// from which OpenSearch Security was forked): plain text, `content-length: 12`.
fn security_plugin_401(body: Vec<u8>, realm: &str) -> Reply {
    Reply {
        headers: vec![
            ("content-type".into(), "text/plain; charset=UTF-8".into()),
            (
                "www-authenticate".into(),
                format!("Basic realm=\"{realm}\""),
            ),
        ],
        ..Reply::text(401, body)
    }
}

#[tokio::test]
async fn the_security_plugins_plain_text_401_is_an_authentication_error() {
    let recorded = fixture("recorded/opendistro_security_401_unauthorized.txt");
    assert_eq!(recorded.len(), 12, "the recorded content-length");
    let (_, err) = refused(
        security_plugin_401(recorded, "Open Distro Security"),
        basic(),
    )
    .await;

    assert!(
        matches!(&err, LogError::Unauthorized { status: 401, reason } if reason == "Unauthorized"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the log store refused the credentials (HTTP 401): Unauthorized"
    );
}

#[tokio::test]
async fn opensearch_securitys_authentication_finally_failed_is_an_authentication_error() {
    let (_, err) = refused(
        security_plugin_401(
            fixture("recorded/opensearch_security_401_authentication_finally_failed.txt"),
            "OpenSearch Security",
        ),
        basic(),
    )
    .await;

    assert!(
        matches!(&err, LogError::Unauthorized { status: 401, reason }
            if reason == "Authentication finally failed"),
        "{err:?}"
    );
}

/// OpenSearch Security 2.11 to 2.13 challenged with a 401 and no body at all (issues
/// opensearch-project/security#3803 and #4214, fixed by #4233; see `recorded/SOURCES.md`).
/// The error still says the credentials were refused, and does not end in an empty reason.
#[tokio::test]
async fn opensearch_securitys_empty_401_is_an_authentication_error_with_a_reason() {
    let (_, err) = refused(
        security_plugin_401(Vec::new(), "OpenSearch Security"),
        basic(),
    )
    .await;

    assert!(
        matches!(&err, LogError::Unauthorized { status: 401, reason } if reason == "no reason given"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the log store refused the credentials (HTTP 401): no reason given"
    );
}

#[tokio::test]
async fn a_recorded_elasticsearch_401_without_credentials_says_credentials_are_missing() {
    let (server, err) = refused(
        Reply::json(
            401,
            fixture("recorded/elasticsearch_error_401_missing_credentials_kubedb.json"),
        ),
        Auth::None,
    )
    .await;

    assert_eq!(server.only_request().header("authorization"), None);
    match &err {
        LogError::Unauthorized { status, reason } => {
            assert_eq!(*status, 401);
            // The recorded request was `GET /_cluster/health?pretty`; Elasticsearch names it.
            assert_eq!(
                reason,
                "missing authentication credentials for REST request [/_cluster/health?pretty]",
                "the root cause repeats the top-level reason, so it is not doubled"
            );
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "the log store refused the credentials (HTTP 401): missing authentication credentials \
         for REST request [/_cluster/health?pretty]"
    );
}

#[tokio::test]
async fn a_recorded_all_shards_failed_error_is_a_query_error_with_its_root_cause() {
    let (_, err) = refused(
        Reply::json(
            400,
            fixture("recorded/elasticsearch_error_search_phase_painless_kibana.json"),
        ),
        basic(),
    )
    .await;

    match &err {
        LogError::Query {
            status,
            kind,
            reason,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(kind.as_deref(), Some("search_phase_execution_exception"));
            // The root cause's reason follows ES's "all shards failed". The finer
            // `caused_by` of the failed shard ("cannot resolve symbol [invalid]") is not read.
            assert_eq!(reason, "all shards failed: compile error");
        }
        other => panic!("expected a query error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "the log store refused the search (HTTP 400, search_phase_execution_exception): \
         all shards failed: compile error"
    );
}

#[tokio::test]
async fn a_recorded_parsing_exception_is_a_query_error_with_elasticsearchs_reason() {
    let (_, err) = refused(
        Reply::json(
            400,
            fixture("recorded/elasticsearch_error_parsing_exception_kibana.json"),
        ),
        basic(),
    )
    .await;

    assert!(
        matches!(&err, LogError::Query { status: 400, kind: Some(k), reason }
            if k == "parsing_exception" && reason == "[terms] query does not support [ohno]"),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_empty_query_filters_on_time_alone_and_a_foreign_cursor_is_refused_unsent() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        fixture("opensearch_search_page2.json"),
    )])
    .await;
    let logs = source(&server, Auth::None);

    logs.search("  ", since(), until(), 10, None).await.unwrap();
    let err = logs
        .search(QUERY, since(), until(), 10, Some("not-a-cursor!"))
        .await
        .unwrap_err();

    let req = server.only_request();
    assert_eq!(req.header("authorization"), None);
    let filter = &req.json()["query"]["bool"]["filter"];
    assert_eq!(filter.as_array().unwrap().len(), 1);
    assert!(filter[0].get("range").is_some());
    assert!(matches!(err, LogError::BadCursor));
}

#[tokio::test]
async fn a_recorded_elasticsearch_hit_becomes_an_entry_with_its_ecs_level_and_a_cursor() {
    let recorded = fixture("recorded/elasticsearch_search_filebeat_tikv_pingcap.json");
    let server = TestServer::replaying(vec![
        Reply::json(200, recorded.clone()),
        Reply::json(200, recorded.clone()),
        Reply::json(200, recorded),
    ])
    .await;
    let logs = source(&server, basic());

    let full = logs.search(QUERY, since(), until(), 1, None).await.unwrap();
    let cursor = full.next_cursor.clone().expect("a full page has a cursor");
    logs.search(QUERY, since(), until(), 1, Some(&cursor))
        .await
        .unwrap();
    let short = logs
        .search(QUERY, since(), until(), 50, None)
        .await
        .unwrap();

    assert!(!full.partial);
    assert_eq!(full.lines.len(), 1);
    let line = &full.lines[0];
    assert_eq!(
        line.at,
        Utc.with_ymd_and_hms(2021, 12, 16, 6, 35, 36).unwrap()
            + chrono::Duration::milliseconds(288)
    );
    assert_eq!(line.message, "stoping worker");
    assert_eq!(
        line.level,
        Some(LogLevel::Info),
        "from the nested ECS log.level \"INFO\""
    );
    assert_eq!(line.fields["_index"], "tiem-tidb-cluster-2021.12.16");
    assert_eq!(line.fields["_id"], "Nu30wX0BomM1rMZIIW8w");
    assert_eq!(line.fields["log"]["logger"], "mod.rs:375");
    assert_eq!(line.fields["agent"]["type"], "filebeat");
    assert!(!line.fields.contains_key("message") && !line.fields.contains_key("@timestamp"));
    assert_eq!(cursor, encode_cursor(&[json!(1_639_636_536_288_i64)]));
    assert_eq!(
        server.requests()[1].json()["search_after"],
        json!([1_639_636_536_288_i64]),
        "the next page continues after the recorded hit's sort value"
    );
    assert_eq!(short.lines, full.lines);
    assert_eq!(
        short.next_cursor, None,
        "one hit for 50 asked is the last page"
    );
}

#[tokio::test]
async fn a_recorded_opensearch_answer_with_a_failed_shard_is_partial_but_keeps_its_hit() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        fixture("recorded/opensearch_search_failed_shard_docs.json"),
    )])
    .await;

    let page = source(&server, basic())
        .search(QUERY, since(), until(), 10, None)
        .await
        .unwrap();

    assert!(page.partial, "_shards.failed is 1");
    assert_eq!(page.lines.len(), 1);
    let line = &page.lines[0];
    // The recorded document has no message field: the line is the document itself.
    let shown: serde_json::Value = serde_json::from_str(&line.message).unwrap();
    assert_eq!(shown, json!({ "name": "John Doe", "average": 80 }));
    assert_eq!(line.level, None);
    // Nor an @timestamp: the time falls back to the first sort value as epoch milliseconds.
    // That answer sorted on `average`, so this is 80 ms; our own request always sorts on
    // @timestamp first, where the fallback reads the real time.
    assert_eq!(line.at, Utc.timestamp_millis_opt(80).unwrap());
    assert_eq!(line.fields["_index"], "students");
    assert_eq!(line.fields["_id"], "1");
    assert_eq!(page.next_cursor, None);
}

#[test]
fn credentials_never_appear_in_debug_output() {
    let shown = format!(
        "{:?} {:?} {:?}",
        basic(),
        Auth::Bearer("tok3n".into()),
        Auth::api_key_from_parts("id", "k3y")
    );

    assert!(
        shown.contains("flightdeck"),
        "the username helps debugging: {shown}"
    );
    for secret in ["hunter2", "tok3n", "aWQ6azN5"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}
