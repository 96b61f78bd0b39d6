//! Loki `query_range`, against response bodies.
//!
//! Recorded from real Loki servers and served verbatim (provenance in
//! `tests/fixtures/recorded/SOURCES.md`): `recorded/loki_query_range_streams_netobserv_flows.json`,
//! a compact `curl -o` capture of a 100-line `streams` answer (46 streams of flow records, Loki
//! 2.x); `recorded/loki_query_range_streams_empty_netobserv.json`, an empty `streams` result
//! with the full Loki 3 stats block; and
//! `recorded/loki_query_range_streams_categorized_detected_level_serilog.json`, a Loki 3 answer to
//! Grafana in the `categorize-labels` form, 20 Serilog JSON lines with `detected_level` in their
//! structured metadata (pretty-printed and kept in a C# comment by the third party).
//!
//! Quoted in issue threads (no file behind them): `recorded/loki_401_no_org_id.txt`, Loki's
//! plain-text 401 to a request without a tenant (a `curl` transcript and a gateway's access log),
//! and `recorded/loki_400_parse_error_grafana_loki_mcp.txt`, a real Loki's plain-text 400 for a
//! LogQL syntax error, as a client printed the body it received.
//!
//! Third-party but not raw recordings: Grafana's own test inputs for its Loki data source,
//! `recorded/loki_query_range_streams_grafana_golden.json` (two streams, a duplicated line,
//! labels with quotes and an emoji) and its Loki 3 twin with `encodingFlags` and
//! `[ns, line, {}]` values. Grafana edited them (the stats counters run 2, 3, 4, …).
//!
//! Hand-written from the documented shapes: `loki_query_range_streams.json` (a `level` label on
//! one stream, Loki 3's `detected_level` as a stream label on another, a logfmt line without a
//! level label on the third), `loki_error_parse.txt`, the plain-text body of a LogQL syntax
//! error (HTTP 400) in the older form with a trailing newline, and, inline, a gateway's JSON 422.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use flightdeck_integrations::Auth;
use flightdeck_integrations::logs::{LogError, LogLevel, LogPage, LogSource, Loki};

use crate::support::{Reply, TestServer, fixture};

const QUERY: &str = r#"{app="checkout-api", namespace="prod"}"#;

fn since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap()
}

fn until() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 10, 5, 0).unwrap()
}

/// Serves a recorded answer once per limit and searches it with each: Loki sends what it holds,
/// so cutting to the limit is the adapter's work.
async fn pages<const N: usize>(recording: &str, limits: [usize; N]) -> [LogPage; N] {
    let recorded = fixture(recording);
    let server = TestServer::replaying(vec![Reply::json(200, recorded); N]).await;
    let logs = loki(&server);
    let mut found = Vec::with_capacity(N);
    for limit in limits {
        found.push(
            logs.search(QUERY, since(), until(), limit, None)
                .await
                .unwrap(),
        );
    }
    found.try_into().expect("one page per limit")
}

fn loki(server: &TestServer) -> LogSource {
    LogSource::Loki(
        Loki::new(
            &server.url,
            Duration::from_secs(5),
            Auth::Bearer("glc_token".into()),
        )
        .unwrap()
        .with_tenant("team-payments"),
    )
}

#[tokio::test]
async fn loki_is_asked_backward_in_nanoseconds_and_its_streams_become_entries_newest_first() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        fixture("loki_query_range_streams.json"),
    )])
    .await;

    let page = loki(&server)
        .search(QUERY, since(), until(), 100, None)
        .await
        .unwrap();

    let req = server.only_request();
    assert_eq!(req.method, "GET");
    assert_eq!(req.path(), "/loki/api/v1/query_range");
    assert_eq!(req.header("authorization"), Some("Bearer glc_token"));
    assert_eq!(req.header("x-scope-orgid"), Some("team-payments"));
    assert_eq!(req.param("query").as_deref(), Some(QUERY));
    assert_eq!(req.param("start").as_deref(), Some("1795600800000000000"));
    assert_eq!(
        req.param("end").as_deref(),
        Some("1795601100000000001"),
        "Loki's end is exclusive; one nanosecond more includes `until`"
    );
    assert_eq!(req.param("limit").as_deref(), Some("100"));
    assert_eq!(req.param("direction").as_deref(), Some("backward"));

    assert!(!page.partial);
    assert_eq!(page.next_cursor, None);
    let got: Vec<_> = page
        .lines
        .iter()
        .map(|l| (l.at.timestamp_nanos_opt().unwrap(), l.level))
        .collect();
    assert_eq!(
        got,
        [
            (1_795_601_099_512_000_000, Some(LogLevel::Error)),
            (1_795_601_098_001_000_000, Some(LogLevel::Warn)),
            (1_795_601_050_000_000_123, Some(LogLevel::Info)),
            (1_795_601_010_000_000_000, Some(LogLevel::Error)),
        ],
        "merged across streams, newest first; levels from level, detected_level, then the line"
    );
    assert_eq!(
        page.lines[0].message,
        "payment provider timed out after 5000 ms"
    );
    assert_eq!(page.lines[0].fields["app"], "checkout-api");
    assert_eq!(page.lines[1].fields["detected_level"], "warn");
}

#[tokio::test]
async fn a_full_loki_page_continues_before_its_oldest_line() {
    let server = TestServer::replaying(vec![
        Reply::json(200, fixture("loki_query_range_streams.json")),
        Reply::json(200, fixture("loki_query_range_streams.json")),
    ])
    .await;
    let logs = loki(&server);

    let first = logs.search(QUERY, since(), until(), 3, None).await.unwrap();
    let cursor = first.next_cursor.expect("a full page has a cursor");
    logs.search(QUERY, since(), until(), 3, Some(&cursor))
        .await
        .unwrap();

    assert_eq!(first.lines.len(), 3);
    assert_eq!(cursor, "1795601050000000123");
    let second = &server.requests()[1];
    assert_eq!(second.param("end").as_deref(), Some("1795601050000000123"));
    assert_eq!(
        second.param("start").as_deref(),
        Some("1795600800000000000")
    );
}

#[tokio::test]
async fn a_loki_parse_error_is_a_typed_error_with_lokis_message() {
    let server =
        TestServer::replaying(vec![Reply::text(400, fixture("loki_error_parse.txt"))]).await;

    let err = loki(&server)
        .search("{app=checkout}", since(), until(), 100, None)
        .await
        .unwrap_err();

    match err {
        LogError::Query { status, reason, .. } => {
            assert_eq!(status, 400);
            assert_eq!(
                reason,
                "parse error at line 1, col 6: syntax error: unexpected IDENTIFIER, expecting STRING"
            );
        }
        other => panic!("expected a query error, got {other:?}"),
    }
}

/// A real Loki's 400 for a LogQL syntax error (a missing comma between two matchers), as an
/// issue thread quotes the body a client got through Grafana's data source proxy (see
/// `recorded/SOURCES.md`). Loki 3 writes it without a newline; the hand-written
/// `loki_error_parse.txt` above has the older form with one.
#[tokio::test]
async fn a_recorded_loki_parse_error_is_a_query_error_with_lokis_message() {
    const BAD: &str = r#"{application="dev-wakumo-ai" source="openhands"} |= "TypeError""#;
    let server = TestServer::replaying(vec![Reply {
        headers: vec![("x-content-type-options".into(), "nosniff".into())],
        ..Reply::text(
            400,
            fixture("recorded/loki_400_parse_error_grafana_loki_mcp.txt"),
        )
    }])
    .await;

    let err = loki(&server)
        .search(BAD, since(), until(), 10, None)
        .await
        .unwrap_err();

    assert_eq!(server.only_request().param("query").as_deref(), Some(BAD));
    assert!(
        matches!(&err, LogError::Query { status: 400, kind: None, reason }
            if reason == "parse error at line 1, col 30: syntax error: unexpected IDENTIFIER, expecting } or ,"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the log store refused the search (HTTP 400): parse error at line 1, col 30: \
         syntax error: unexpected IDENTIFIER, expecting } or ,"
    );
}

#[tokio::test]
async fn a_json_error_from_a_loki_gateway_is_a_typed_error() {
    let server = TestServer::replaying(vec![Reply::json(
        422,
        r#"{"status":"error","errorType":"execution","error":"max entries limit per query exceeded, limit > max_entries_limit (10000 > 5000)"}"#,
    )])
    .await;

    let limit = loki(&server)
        .search(QUERY, since(), until(), 10_000, None)
        .await
        .unwrap_err();

    assert!(
        matches!(&limit, LogError::Query { status: 422, kind: Some(k), reason }
            if k == "execution" && reason.starts_with("max entries limit")),
        "{limit:?}"
    );
}

/// A multi-tenant Loki asked without `X-Scope-OrgID` answers 401 with Go's `http.Error` text:
/// the recorded 10 bytes `no org id\n` (issue threads, see `recorded/SOURCES.md`), served with
/// the headers `http.Error` sets.
#[tokio::test]
async fn lokis_401_no_org_id_is_an_authentication_error() {
    let recorded = fixture("recorded/loki_401_no_org_id.txt");
    assert_eq!(
        recorded.len(),
        10,
        "the body size in the recorded access log"
    );
    let server = TestServer::replaying(vec![Reply {
        headers: vec![("x-content-type-options".into(), "nosniff".into())],
        ..Reply::text(401, recorded)
    }])
    .await;
    let no_tenant =
        LogSource::Loki(Loki::new(&server.url, Duration::from_secs(5), Auth::None).unwrap());

    let err = no_tenant
        .search(QUERY, since(), until(), 10, None)
        .await
        .unwrap_err();

    assert_eq!(server.only_request().header("x-scope-orgid"), None);
    assert!(
        matches!(&err, LogError::Unauthorized { status: 401, reason } if reason == "no org id"),
        "the trailing newline is not part of the reason: {err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the log store refused the credentials (HTTP 401): no org id"
    );
}

#[tokio::test]
async fn a_loki_metric_query_is_refused_because_it_has_no_lines() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
    )])
    .await;

    let err = loki(&server)
        .search("rate({app=\"x\"}[5m])", since(), until(), 10, None)
        .await
        .unwrap_err();

    assert!(
        matches!(&err, LogError::Malformed(m) if m.contains("metric query")),
        "{err:?}"
    );
}

#[tokio::test]
async fn grafanas_loki_bodies_merge_their_streams_newest_first_with_labels_as_fields() {
    let server = TestServer::replaying(vec![
        Reply::json(
            200,
            fixture("recorded/loki_query_range_streams_grafana_golden.json"),
        ),
        Reply::json(
            200,
            fixture("recorded/loki_query_range_streams_structured_metadata_grafana_golden.json"),
        ),
        Reply::json(
            200,
            fixture("recorded/loki_query_range_streams_grafana_golden.json"),
        ),
    ])
    .await;
    let logs = loki(&server);

    let two_values = logs
        .search(QUERY, since(), until(), 100, None)
        .await
        .unwrap();
    let three_values = logs
        .search(QUERY, since(), until(), 100, None)
        .await
        .unwrap();
    let short = logs.search(QUERY, since(), until(), 3, None).await.unwrap();

    let got: Vec<_> = two_values
        .lines
        .iter()
        .map(|l| (l.at.timestamp_nanos_opt().unwrap(), l.message.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (1_645_030_247_027_735_040, "log line info 1"),
            (1_645_030_246_277_587_968, "log line info 2"),
            (1_645_030_246_277_587_968, "log line info 2"),
            (1_645_030_245_539_423_744, "log line info 3"),
            (1_645_030_244_810_757_120, "log line error 1"),
            (1_645_030_244_091_700_992, "log line info 4"),
        ],
        "the error stream's line sorts between the other stream's lines"
    );
    assert!(
        two_values.lines.iter().all(|l| l.level.is_none()),
        "no level label, and lower-case prose is not a level"
    );
    assert_eq!(two_values.lines[4].fields["code"], "one\",");
    assert_eq!(two_values.lines[0].fields["code"], "\",two");
    assert_eq!(two_values.lines[0].fields["location"], "moon🌙");
    assert_eq!(two_values.next_cursor, None);
    assert!(!two_values.partial);
    assert_eq!(
        three_values.lines, two_values.lines,
        "an empty structured-metadata object adds nothing"
    );
    assert_eq!(short.lines.len(), 3);
    assert_eq!(
        short.next_cursor.as_deref(),
        Some("1645030246277587968"),
        "the next page ends at the oldest line kept"
    );
}

#[tokio::test]
async fn a_recorded_loki_answer_of_46_streams_becomes_one_page_newest_first() {
    let [all, half] = pages(
        "recorded/loki_query_range_streams_netobserv_flows.json",
        [100, 50],
    )
    .await;

    assert_eq!(all.lines.len(), 100, "every value of every stream");
    let ns: Vec<i64> = all
        .lines
        .iter()
        .map(|l| l.at.timestamp_nanos_opt().unwrap())
        .collect();
    assert!(ns.windows(2).all(|w| w[0] >= w[1]), "merged newest first");
    assert_eq!(ns[0], 1_667_835_814_105_999_872);
    assert_eq!(ns[99], 1_667_835_810_988_999_936);
    let newest = &all.lines[0];
    assert!(
        newest.message.starts_with(r#"{"SrcAddr":"130.211.1.79","#),
        "{}",
        newest.message
    );
    assert_eq!(newest.fields["app"], "netobserv-flowcollector");
    assert_eq!(newest.fields["FlowDirection"], "0");
    assert_eq!(
        all.lines[1].fields["SrcK8S_OwnerName"],
        "ci-ln-xz1644k-72292-ch8kk-master-0"
    );
    assert!(
        all.lines.iter().all(|l| l.level.is_none()),
        "flow records carry no level"
    );
    assert!(!all.partial);
    assert_eq!(
        all.next_cursor.as_deref(),
        Some("1667835810988999936"),
        "a full page continues before its oldest line"
    );
    assert_eq!(half.lines.len(), 50, "cut to the limit after merging");
    assert_eq!(half.lines[..], all.lines[..50]);
    assert_eq!(half.next_cursor.as_deref(), Some("1667835811948999936"));
}

#[tokio::test]
async fn a_recorded_empty_loki_answer_is_an_empty_last_page() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        fixture("recorded/loki_query_range_streams_empty_netobserv.json"),
    )])
    .await;

    let page = loki(&server)
        .search(QUERY, since(), until(), 50, None)
        .await
        .unwrap();

    assert!(page.lines.is_empty());
    assert_eq!(page.next_cursor, None, "nothing older to ask for");
    assert!(!page.partial);
}

/// A Loki 3 answer to Grafana (`X-Loki-Response-Encoding-Flags: categorize-labels`): one stream
/// of 20 Serilog JSON lines, each with `{"structuredMetadata": {"detected_level": …}}` as its
/// third value. Recorded from a real Loki by a third party (see `recorded/SOURCES.md`).
#[tokio::test]
async fn a_recorded_loki_3_answer_with_detected_level_in_structured_metadata() {
    let [all, newest] = pages(
        "recorded/loki_query_range_streams_categorized_detected_level_serilog.json",
        [20, 5],
    )
    .await;

    assert_eq!(all.lines.len(), 20, "every value of the one stream");
    assert!(!all.partial);
    // The recording was asked `direction=forward` (oldest first); the page is newest first.
    let ns: Vec<i64> = all
        .lines
        .iter()
        .map(|l| l.at.timestamp_nanos_opt().unwrap())
        .collect();
    assert!(ns.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(ns[0], 1_743_568_164_989_597_800);
    assert_eq!(ns[19], 1_743_568_161_538_530_100);
    assert_eq!(all.next_cursor.as_deref(), Some("1743568161538530100"));

    // The five lines of the level test, oldest first, as Serilog wrote them and Loki detected.
    let by_level: Vec<_> = all.lines[15..]
        .iter()
        .rev()
        .map(|l| (l.level, l.fields["detected_level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        by_level,
        [
            (Some(LogLevel::Debug), "debug"),
            (Some(LogLevel::Info), "info"),
            (Some(LogLevel::Warn), "warn"),
            (Some(LogLevel::Error), "error"),
            (Some(LogLevel::Fatal), "critical"),
        ],
        "Serilog's `warning` and `critical` (its name for Fatal), as Loki's detected_level"
    );
    let fatal = &all.lines[15];
    assert!(
        fatal
            .message
            .contains(r#""Message":"This is a fatal message""#)
    );
    assert!(
        !fatal.fields.contains_key("structuredMetadata"),
        "the category is flattened, not kept as one nested field: {:?}",
        fatal.fields
    );
    assert_eq!(fatal.fields["service_name"], "loki-test");
    assert_eq!(fatal.fields["tester"], "Darshan Parmar");

    // Five lines share two nanoseconds (.NET clocks tick in 100 ns); a page of five ends on
    // the older of them and holds both of its lines.
    assert_eq!(newest.lines[..], all.lines[..5]);
    assert_eq!(newest.next_cursor.as_deref(), Some("1743568164989597700"));
}

#[test]
fn levels_are_read_from_logfmt_json_and_upper_case_words() {
    assert_eq!(
        LogLevel::sniff("ts=1 level=warning msg=x"),
        Some(LogLevel::Warn)
    );
    assert_eq!(
        LogLevel::sniff(r#"{"level":"ERROR","msg":"x"}"#),
        Some(LogLevel::Error)
    );
    assert_eq!(
        LogLevel::sniff("2026-11-25 10:00:00 [FATAL] disk full"),
        Some(LogLevel::Fatal)
    );
    assert_eq!(
        LogLevel::sniff("an error occurred"),
        None,
        "lower-case prose is not a level"
    );
    assert_eq!(LogLevel::parse("crit"), Some(LogLevel::Fatal));
}
