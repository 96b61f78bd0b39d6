//! The Prometheus client and the SLO evaluator against a real Prometheus (see
//! `real_prometheus.rs`).

use std::time::Duration;

use chrono::Utc;
use flightdeck_domain::health::burn::{BurnAlert, BurnWindow, clamp_step};
use flightdeck_domain::health::slo::{Comparison, Objective, Sli, Slo};
use flightdeck_integrations::prometheus::{PromError, QueryResult, SloEvaluator};

use crate::real_prometheus::RealPrometheus;
use crate::support::eventually;

const ERROR_RATIO: &str =
    r#"sum(rate(http_requests_total{code="500"}[1m])) / sum(rate(http_requests_total[1m]))"#;

#[tokio::test]
async fn an_instant_query_returns_one_sample_per_series_the_exporter_serves() {
    let prom = RealPrometheus::start(10.0, 1.0).await;
    prom.wait_for_value("count(http_requests_total)").await;

    let data = prom
        .client()
        .instant("http_requests_total", Utc::now())
        .await
        .unwrap();

    let QueryResult::Vector(samples) = data.result else {
        panic!("expected a vector, got {:?}", data.result);
    };
    let mut codes: Vec<_> = samples.iter().map(|s| s.metric["code"].as_str()).collect();
    codes.sort();
    assert_eq!(codes, ["200", "500"]);
    for s in &samples {
        assert_eq!(s.metric["job"], "exporter");
        assert_eq!(s.metric["__name__"], "http_requests_total");
        assert!(s.point.value >= 10_000.0, "{s:?}");
        assert!((Utc::now() - s.point.at).num_seconds().abs() < 60);
    }
}

#[tokio::test]
async fn a_range_query_returns_each_series_with_points_at_the_requested_step() {
    let prom = RealPrometheus::start(10.0, 1.0).await;
    prom.wait_for_value("sum(rate(http_requests_total[1m]))")
        .await;

    let end = Utc::now();
    let data = prom
        .client()
        .range(
            "http_requests_total",
            end - chrono::Duration::seconds(10),
            end,
            1,
        )
        .await
        .unwrap();

    assert_eq!(data.step_secs, 1);
    assert_eq!(data.series.len(), 2);
    for series in &data.series {
        assert!(series.points.len() >= 2, "{series:?}");
        for pair in series.points.windows(2) {
            assert_eq!((pair[1].at - pair[0].at).num_milliseconds(), 1000);
            assert!(pair[1].value >= pair[0].value, "a counter never falls");
        }
    }
}

#[tokio::test]
async fn a_month_at_one_second_steps_is_clamped_so_prometheus_accepts_it() {
    let prom = RealPrometheus::start(10.0, 1.0).await;
    let end = Utc::now();
    let month = 30 * 86_400;

    let data = prom
        .client()
        .range("vector(1)", end - chrono::Duration::seconds(month), end, 1)
        .await
        .expect("Prometheus refuses more than 11,000 points; the clamped step stays under");

    assert_eq!(data.step_secs, clamp_step(month as u64, 1));
    assert!(data.series[0].points.len() <= 11_000);
}

#[tokio::test]
async fn rate_of_the_controlled_error_counter_gives_the_expected_error_ratio() {
    let prom = RealPrometheus::start(90.0, 10.0).await;

    let ratio = prom.wait_for_value(ERROR_RATIO).await;

    assert!(
        (ratio - 0.1).abs() < 0.03,
        "error ratio {ratio}, expected 0.1"
    );
}

fn availability_slo() -> Slo {
    Slo {
        objective: Objective::new(0.99).unwrap(),
        window_secs: 300,
        sli: Sli::Ratio {
            good: r#"sum(rate(http_requests_total{code!~"5.."}[$window]))"#.into(),
            total: "sum(rate(http_requests_total[$window]))".into(),
        },
    }
}

#[tokio::test]
async fn the_slo_evaluator_reports_the_sli_and_its_burn_rate_rises_with_the_error_rate() {
    // 0.5 % errors against a 99 % objective: burning at half the sustainable pace, well clear
    // of the ticket pair's 1x.
    let prom = RealPrometheus::start(199.0, 1.0).await;
    let evaluator = SloEvaluator::new(prom.client());
    let slo = availability_slo();
    prom.wait_for_value(ERROR_RATIO).await;

    let before = evaluator.evaluate(&slo, Utc::now()).await.unwrap();
    let current = before
        .summary
        .current
        .expect("an SLI once traffic is scraped");
    assert!((current - 0.995).abs() < 0.002, "SLI {current}");
    let burn = before.burn.rate(BurnWindow::M5).unwrap();
    assert!(
        (0.3..0.7).contains(&burn),
        "burn rate {burn}, expected about 0.5"
    );
    assert_eq!(before.burn.most_urgent(), None);
    let remaining = before.summary.budget_remaining.unwrap();
    assert!((0.3..0.7).contains(&remaining), "budget left {remaining}");

    // A third of requests fail: way past the 14.4x page threshold on every window.
    prom.exporter.set_rates(100.0, 50.0);
    let after = eventually("the fast burn to fire", Duration::from_secs(30), || {
        let (evaluator, slo) = (&evaluator, &slo);
        async move {
            let e = evaluator.evaluate(slo, Utc::now()).await.ok()?;
            e.burn.fast_burn.then_some(e)
        }
    })
    .await;

    assert!(after.burn.rate(BurnWindow::M5).unwrap() > 14.4);
    assert!(after.burn.rate(BurnWindow::H1).unwrap() > burn * 10.0);
    assert_eq!(after.burn.most_urgent(), Some(BurnAlert::FastBurn));
    assert!(after.summary.current.unwrap() < current);
    assert!(after.summary.budget_remaining.unwrap() < remaining);
    assert_eq!(after.error_ratios.len(), BurnWindow::ALL.len());
}

#[tokio::test]
async fn a_threshold_slo_is_the_fraction_of_points_at_which_the_value_meets_it() {
    // Half the requests fail: the error ratio sits at 0.5 at every point.
    let prom = RealPrometheus::start(50.0, 50.0).await;
    let evaluator = SloEvaluator::new(prom.client()).with_threshold_resolution(1);
    let threshold = |comparison, threshold| Slo {
        sli: Sli::Threshold {
            query: ERROR_RATIO.into(),
            comparison,
            threshold,
        },
        ..availability_slo()
    };
    // The subquery samples on whole seconds, which may fall just before the second scrape
    // that `rate()` needs: wait until a point has data.
    let missed_slo = threshold(Comparison::Le, 0.05);
    let missed = eventually("a threshold SLI value", Duration::from_secs(30), || {
        let (evaluator, slo) = (&evaluator, &missed_slo);
        async move {
            let e = evaluator.evaluate(slo, Utc::now()).await.ok()?;
            e.summary.current.is_some().then_some(e)
        }
    })
    .await;
    let met = evaluator
        .evaluate(&threshold(Comparison::Le, 0.9), Utc::now())
        .await
        .unwrap();

    assert_eq!(missed.summary.current, Some(0.0));
    assert!(missed.summary.budget_remaining.unwrap() < 0.0, "overspent");
    assert_eq!(missed.burn.most_urgent(), Some(BurnAlert::FastBurn));
    assert_eq!(met.summary.current, Some(1.0));
    assert_eq!(met.burn.rate(BurnWindow::M5), Some(0.0));
    assert_eq!(met.burn.most_urgent(), None);
}

#[tokio::test]
async fn an_slo_without_any_traffic_has_no_value_rather_than_a_nan() {
    let prom = RealPrometheus::start(10.0, 1.0).await;
    let evaluator = SloEvaluator::new(prom.client());
    let slo = Slo {
        sli: Sli::Ratio {
            good: "sum(rate(nothing_total[$window]))".into(),
            total: "sum(rate(nothing_total[$window]))".into(),
        },
        ..availability_slo()
    };

    let e = evaluator.evaluate(&slo, Utc::now()).await.unwrap();

    assert_eq!(e.summary.current, None);
    assert_eq!(e.summary.budget_remaining, None);
    assert!(e.burn.rates.iter().all(|r| r.burn_rate.is_none()));
}

#[tokio::test]
async fn bad_promql_is_a_typed_error_carrying_prometheus_own_message() {
    let prom = RealPrometheus::start(10.0, 1.0).await;

    let err = prom
        .client()
        .instant("sum(rate(http_requests_total[5m]", Utc::now())
        .await
        .unwrap_err();

    match err {
        PromError::Query {
            status,
            error_type,
            message,
        } => {
            assert_eq!(status, 400);
            assert_eq!(error_type, "bad_data");
            assert!(message.contains("parse error"), "{message}");
        }
        other => panic!("expected a query error, got {other:?}"),
    }
}

#[tokio::test]
async fn nan_and_infinities_from_prometheus_parse_as_floats() {
    let prom = RealPrometheus::start(10.0, 1.0).await;
    let client = prom.client();
    let value = |q: &'static str| {
        let client = client.clone();
        async move {
            match client.instant(q, Utc::now()).await.unwrap().result {
                QueryResult::Scalar(p) => p.value,
                other => panic!("{q}: expected a scalar, got {other:?}"),
            }
        }
    };

    assert!(value("0/0").await.is_nan());
    assert_eq!(value("1/0").await, f64::INFINITY);
    assert_eq!(value("-1/0").await, f64::NEG_INFINITY);

    let end = Utc::now();
    let range = client
        .range("vector(0) / 0", end - chrono::Duration::seconds(5), end, 1)
        .await
        .unwrap();
    assert_eq!(range.series.len(), 1);
    assert!(range.series[0].points.iter().all(|p| p.value.is_nan()));
}
