//! What the client sends and how it reads error envelopes and timeouts, against a local server
//! answering Prometheus' documented bodies (HTTP API, "Format overview"): the cases a healthy
//! test Prometheus cannot be made to produce on demand.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use flightdeck_domain::health::burn::clamp_step;
use flightdeck_integrations::Auth;
use flightdeck_integrations::prometheus::{PromError, Prometheus, QueryResult};

use crate::support::{Reply, TestServer, silent_server};

fn client(url: &str, auth: Auth) -> Prometheus {
    Prometheus::new(url, Duration::from_secs(5), auth).unwrap()
}

#[tokio::test]
async fn a_range_query_is_posted_form_encoded_with_auth_under_the_base_path_and_a_clamped_step() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"api"},"values":[[1767225600,"1"],[1767225836,"+Inf"]]}]},
            "warnings":["PromQL info: metric might not be a counter"]}"#,
    )])
    .await;
    let prom = client(
        &format!("{}/prometheus", server.url),
        Auth::Bearer("s3cret".into()),
    );
    let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let end = start + chrono::Duration::days(30);

    let data = prom.range("up{job=\"api\"}", start, end, 15).await.unwrap();

    let req = server.only_request();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path(), "/prometheus/api/v1/query_range");
    assert_eq!(req.header("authorization"), Some("Bearer s3cret"));
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = req.form();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("query"), Some("up{job=\"api\"}"));
    assert_eq!(get("start"), Some("1767225600.000"));
    assert_eq!(get("end"), Some("1769817600.000"));
    assert_eq!(get("step"), Some("236"));
    assert_eq!(data.step_secs, clamp_step(30 * 86_400, 15));
    assert_eq!(data.series[0].points[1].value, f64::INFINITY);
    assert_eq!(data.warnings.len(), 1);
}

#[tokio::test]
async fn error_envelopes_become_typed_errors_with_prometheus_message() {
    let server = TestServer::replaying(vec![
        Reply::json(
            422,
            r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory in query execution"}"#,
        ),
        Reply::json(
            503,
            r#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#,
        ),
    ])
    .await;
    let prom = client(&server.url, Auth::None);

    for (status, kind, text) in [
        (422, "execution", "too many samples"),
        (503, "timeout", "query timed out"),
    ] {
        match prom.instant("up", Utc::now()).await.unwrap_err() {
            PromError::Query {
                status: s,
                error_type,
                message,
            } => {
                assert_eq!((s, error_type.as_str()), (status, kind));
                assert!(message.contains(text), "{message}");
            }
            other => panic!("expected a query error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_non_envelope_failure_such_as_a_proxy_401_keeps_the_status_and_body() {
    let server = TestServer::replaying(vec![Reply::text(401, "Unauthorized")]).await;

    let err = client(&server.url, Auth::None)
        .instant("up", Utc::now())
        .await
        .unwrap_err();

    assert!(
        matches!(&err, PromError::Http { status: 401, body } if body == "Unauthorized"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_prometheus_that_does_not_answer_in_time_is_a_timeout_error() {
    let url = silent_server().await;
    let prom = Prometheus::new(&url, Duration::from_millis(300), Auth::None).unwrap();

    let err = prom.instant("up", Utc::now()).await.unwrap_err();

    assert!(
        matches!(err, PromError::Timeout(d) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "Prometheus did not answer within 300ms");
}

#[tokio::test]
async fn vector_scalar_and_string_results_are_read_and_the_instant_is_sent() {
    let server = TestServer::replaying(vec![
        Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"code":"200"},"value":[1435781451.781,"1"]},
                {"metric":{"code":"500"},"value":[1435781451.781,"NaN"]}]}}"#,
        ),
        Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"-Inf"]}}"#,
        ),
        Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"string","result":[1435781451.781,"hello"]}}"#,
        ),
    ])
    .await;
    let prom = client(&server.url, Auth::None);
    let at = Utc.timestamp_millis_opt(1_435_781_451_781).unwrap();

    let QueryResult::Vector(v) = prom.instant("x", at).await.unwrap().result else {
        panic!("expected a vector");
    };
    assert_eq!(v[0].point.at, at);
    assert!(v[1].point.value.is_nan());
    let scalar = prom.instant("x", at).await.unwrap().result;
    assert_eq!(scalar.single_value(), Some(f64::NEG_INFINITY));
    let string = prom.instant("x", at).await.unwrap().result;
    assert_eq!(
        string,
        QueryResult::String {
            at,
            value: "hello".into()
        }
    );
    let sent = &server.requests()[0];
    assert_eq!(sent.path(), "/api/v1/query");
    assert!(
        sent.form()
            .contains(&("time".into(), "1435781451.781".into()))
    );
}

#[tokio::test]
async fn a_sample_value_that_is_not_a_number_is_a_malformed_answer_not_a_zero() {
    let server = TestServer::replaying(vec![Reply::json(
        200,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"lots"]}}"#,
    )])
    .await;

    let err = client(&server.url, Auth::None)
        .instant("x", Utc::now())
        .await
        .unwrap_err();

    assert!(matches!(err, PromError::Malformed(m) if m.contains("\"lots\"")));
}
