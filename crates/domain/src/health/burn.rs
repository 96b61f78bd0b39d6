//! Multi-window, multi-burn-rate alerting as in the SRE workbook (chapter 5, "Alerting on SLOs"),
//! and the PromQL that feeds it.
//!
//! The burn rate is how fast the error budget is being spent: the observed error ratio divided by
//! the budget `1 - objective`. At 1× the budget lasts exactly the SLO window. Each alert pairs a
//! long window (is it significant?) with a short one (is it still happening?), and fires only when
//! **both** burn faster than its factor:
//!
//! | alert       | long | short | factor | 30-day budget spent |
//! | ----------- | ---- | ----- | ------ | ------------------- |
//! | fast burn   | 1 h  | 5 m   | 14.4×  | 2 % in an hour      |
//! | slow burn   | 6 h  | 30 m  | 6×     | 5 % in six hours    |
//! | ticket      | 3 d  | 6 h   | 1×     | 10 % in three days  |

use serde::{Deserialize, Serialize};

use crate::health::slo::{Comparison, Objective, error_budget, sli_from_counts};

/// Where the range goes in a query template: `rate(http_requests_total[$window])`.
pub const WINDOW_PLACEHOLDER: &str = "$window";

/// Prometheus refuses range queries of more than 11,000 points per series.
pub const MAX_POINTS: u64 = 11_000;

/// The windows the workbook's alert pairs look at. On the wire they are Prometheus durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum BurnWindow {
    #[serde(rename = "5m")]
    M5,
    #[serde(rename = "30m")]
    M30,
    #[serde(rename = "1h")]
    H1,
    #[serde(rename = "6h")]
    H6,
    #[serde(rename = "3d")]
    D3,
}

impl BurnWindow {
    /// Every window, shortest first.
    pub const ALL: [BurnWindow; 5] = [
        BurnWindow::M5,
        BurnWindow::M30,
        BurnWindow::H1,
        BurnWindow::H6,
        BurnWindow::D3,
    ];

    pub fn secs(self) -> u64 {
        match self {
            BurnWindow::M5 => 5 * 60,
            BurnWindow::M30 => 30 * 60,
            BurnWindow::H1 => 3600,
            BurnWindow::H6 => 6 * 3600,
            BurnWindow::D3 => 3 * 24 * 3600,
        }
    }

    /// The window as a PromQL duration, which is also its wire name.
    pub fn promql(self) -> &'static str {
        match self {
            BurnWindow::M5 => "5m",
            BurnWindow::M30 => "30m",
            BurnWindow::H1 => "1h",
            BurnWindow::H6 => "6h",
            BurnWindow::D3 => "3d",
        }
    }
}

/// The three alerts of the workbook's table, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BurnAlert {
    /// Page: 2 % of a 30-day budget gone in an hour.
    FastBurn,
    /// Page: 5 % gone in six hours.
    SlowBurn,
    /// Ticket: 10 % gone in three days.
    Ticket,
}

/// One alert's window pair and the factor both windows must exceed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurnPair {
    pub alert: BurnAlert,
    pub long: BurnWindow,
    pub short: BurnWindow,
    pub factor: f64,
}

/// The workbook's pairs, most urgent first.
pub const PAIRS: [BurnPair; 3] = [
    BurnPair {
        alert: BurnAlert::FastBurn,
        long: BurnWindow::H1,
        short: BurnWindow::M5,
        factor: 14.4,
    },
    BurnPair {
        alert: BurnAlert::SlowBurn,
        long: BurnWindow::H6,
        short: BurnWindow::M30,
        factor: 6.0,
    },
    BurnPair {
        alert: BurnAlert::Ticket,
        long: BurnWindow::D3,
        short: BurnWindow::H6,
        factor: 1.0,
    },
];

/// The error ratio (bad ÷ total, in [0, 1]) observed over one window. `None`: no data, or no
/// traffic in that window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowErrorRatio {
    pub window: BurnWindow,
    pub error_ratio: Option<f64>,
}

/// The error ratio from good and total counts over a window: `1 - good/total`, `None` when
/// [`sli_from_counts`] is (no traffic, NaN, negative).
pub fn error_ratio_from_counts(good: f64, total: f64) -> Option<f64> {
    sli_from_counts(good, total).map(|sli| 1.0 - sli)
}

/// The burn rate of an error ratio: `error_ratio / (1 - objective)`. `None` when the ratio is not
/// a number in [0, 1], so a NaN from Prometheus stays "no data" instead of becoming a rate.
pub fn burn_rate(objective: Objective, error_ratio: f64) -> Option<f64> {
    (0.0..=1.0)
        .contains(&error_ratio)
        .then(|| error_ratio / error_budget(objective))
}

/// One window's burn rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowBurnRate {
    pub window: BurnWindow,
    /// `None`: no data for this window.
    pub burn_rate: Option<f64>,
}

/// Which of the workbook's alerts an SLO triggers, and the rates behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnAssessment {
    /// 1 h and 5 m both above 14.4×: page.
    pub fast_burn: bool,
    /// 6 h and 30 m both above 6×: page.
    pub slow_burn: bool,
    /// 3 d and 6 h both above 1×: ticket.
    pub ticket: bool,
    /// Every window of [`BurnWindow::ALL`], in that order.
    pub rates: Vec<WindowBurnRate>,
}

impl BurnAssessment {
    pub fn rate(&self, window: BurnWindow) -> Option<f64> {
        self.rates
            .iter()
            .find(|r| r.window == window)
            .and_then(|r| r.burn_rate)
    }

    pub fn fires(&self, alert: BurnAlert) -> bool {
        match alert {
            BurnAlert::FastBurn => self.fast_burn,
            BurnAlert::SlowBurn => self.slow_burn,
            BurnAlert::Ticket => self.ticket,
        }
    }

    /// The most urgent alert that fires, if any.
    pub fn most_urgent(&self) -> Option<BurnAlert> {
        PAIRS.iter().map(|p| p.alert).find(|a| self.fires(*a))
    }
}

/// Assesses an SLO's error ratios against the workbook's pairs. A pair fires only when both of
/// its windows have data and both burn strictly faster than its factor (the workbook's `>`).
/// A window with no data never fires anything: silence is for the staleness rule in
/// [`crate::health::rollup`] to judge, not a burn. When a window appears more than once, its
/// highest ratio counts, so duplicated input can only make the assessment more cautious.
pub fn evaluate(objective: Objective, ratios: &[WindowErrorRatio]) -> BurnAssessment {
    let rates: Vec<WindowBurnRate> = BurnWindow::ALL
        .iter()
        .map(|&window| WindowBurnRate {
            window,
            burn_rate: ratios
                .iter()
                .filter(|r| r.window == window)
                .filter_map(|r| r.error_ratio.and_then(|e| burn_rate(objective, e)))
                .reduce(f64::max),
        })
        .collect();
    let rate = |w: BurnWindow| {
        rates
            .iter()
            .find(|r| r.window == w)
            .and_then(|r| r.burn_rate)
    };
    let fires = |pair: &BurnPair| {
        [pair.long, pair.short]
            .iter()
            .all(|w| rate(*w).is_some_and(|r| r > pair.factor))
    };
    BurnAssessment {
        fast_burn: fires(&PAIRS[0]),
        slow_burn: fires(&PAIRS[1]),
        ticket: fires(&PAIRS[2]),
        rates,
    }
}

/// A duration as PromQL writes it, in the largest unit that divides it exactly: `5m`, `1h`,
/// `3d`, `90s`, `30d`. Zero is `0s`.
pub fn prom_duration(secs: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(86_400, "d"), (3600, "h"), (60, "m")];
    UNITS
        .iter()
        .find(|(size, _)| secs > 0 && secs.is_multiple_of(*size))
        .map(|(size, unit)| format!("{}{unit}", secs / size))
        .unwrap_or_else(|| format!("{secs}s"))
}

/// Renders a query template: every `$window` becomes the window as a PromQL duration.
/// `sum(rate(http_requests_total[$window]))` over 3600 s is `sum(rate(http_requests_total[1h]))`.
/// `$window` is the only placeholder; a template without one renders unchanged.
pub fn render(template: &str, window_secs: u64) -> String {
    template.replace(WINDOW_PLACEHOLDER, &prom_duration(window_secs))
}

/// The two instant queries of a ratio SLI over one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatioQueries {
    pub window_secs: u64,
    pub good: String,
    pub total: String,
}

/// The good and total queries over one window. They are queried separately (not as one
/// `good / total` expression) so that "no traffic" (total 0) is told apart from a NaN and judged by
/// [`sli_from_counts`].
pub fn ratio_queries(good_template: &str, total_template: &str, window_secs: u64) -> RatioQueries {
    RatioQueries {
        window_secs,
        good: render(good_template, window_secs),
        total: render(total_template, window_secs),
    }
}

/// The good and total queries for every burn window, in [`BurnWindow::ALL`] order. (The SLO
/// window's own pair, for the current value, is `ratio_queries(good, total, slo.window_secs)`.)
pub fn burn_queries(good_template: &str, total_template: &str) -> Vec<(BurnWindow, RatioQueries)> {
    BurnWindow::ALL
        .iter()
        .map(|&w| (w, ratio_queries(good_template, total_template, w.secs())))
        .collect()
}

/// The instant query for a threshold SLI over a window: the fraction of evaluation points, one
/// every `resolution_secs`, at which `query` meets the threshold. It is a subquery,
///
/// `avg_over_time((((Q) <= bool 0.3) and ((Q) == (Q)))[1h:1m])`,
///
/// where `bool` turns each point into 1 (met) or 0 (missed) and `and ((Q) == (Q))` drops NaN
/// points (NaN equals nothing), matching [`crate::health::slo::threshold_sli`]. No points at all
/// gives an empty result, i.e. no data. A resolution of 0 is taken as 1 s.
pub fn threshold_query(
    query: &str,
    comparison: Comparison,
    threshold: f64,
    window_secs: u64,
    resolution_secs: u64,
) -> String {
    format!(
        "avg_over_time(((({query}) {op} bool {threshold}) and (({query}) == ({query})))[{w}:{r}])",
        op = comparison.promql(),
        w = prom_duration(window_secs),
        r = prom_duration(resolution_secs.max(1)),
    )
}

/// The number of points a range query over `range_secs` with `step_secs` returns per series:
/// both ends are included.
pub fn points(range_secs: u64, step_secs: u64) -> u64 {
    range_secs / step_secs.max(1) + 1
}

/// A range query's step: the desired one, raised just enough that the query returns at most
/// [`MAX_POINTS`] points per series (Prometheus refuses more). Never below the desired step and
/// never 0 (a desired step of 0 is taken as 1 s).
pub fn clamp_step(range_secs: u64, desired_step_secs: u64) -> u64 {
    // points ≤ MAX ⟺ ⌊range / step⌋ < MAX ⟺ step > range / MAX ⟺ step ≥ ⌊range / MAX⌋ + 1.
    desired_step_secs.max(1).max(range_secs / MAX_POINTS + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn o(v: f64) -> Objective {
        Objective::new(v).unwrap()
    }

    fn ratios(pairs: &[(BurnWindow, f64)]) -> Vec<WindowErrorRatio> {
        pairs
            .iter()
            .map(|&(window, e)| WindowErrorRatio {
                window,
                error_ratio: Some(e),
            })
            .collect()
    }

    fn all(e: f64) -> Vec<WindowErrorRatio> {
        ratios(&BurnWindow::ALL.map(|w| (w, e)))
    }

    use BurnWindow::*;

    #[test]
    fn the_burn_rate_is_the_error_ratio_over_the_budget() {
        assert!((burn_rate(o(0.999), 0.0162).unwrap() - 16.2).abs() < 1e-9);
        assert_eq!(burn_rate(o(0.99), 0.0), Some(0.0));
    }

    #[test]
    fn a_nan_or_out_of_range_error_ratio_has_no_burn_rate() {
        for bad in [f64::NAN, f64::INFINITY, -0.01, 1.01] {
            assert_eq!(burn_rate(o(0.999), bad), None, "{bad}");
        }
    }

    #[test]
    fn the_error_ratio_from_counts_is_the_complement_of_the_sli() {
        assert!((error_ratio_from_counts(990.0, 1000.0).unwrap() - 0.01).abs() < 1e-12);
        assert_eq!(error_ratio_from_counts(0.0, 0.0), None);
    }

    #[test]
    fn a_fast_burn_needs_both_the_hour_and_the_five_minutes_above_14_4() {
        let a = evaluate(o(0.999), &ratios(&[(H1, 0.0162), (M5, 0.02)]));
        assert!(a.fast_burn);
        assert!((a.rate(H1).unwrap() - 16.2).abs() < 1e-9);
        // The spike is over: the last five minutes are clean.
        let over = evaluate(o(0.999), &ratios(&[(H1, 0.0162), (M5, 0.0)]));
        assert!(!over.fast_burn);
        // Exactly the factor is not above it.
        let edge = evaluate(o(0.5), &ratios(&[(H1, 0.0), (M5, 1.0)]));
        assert!(!edge.fast_burn);
    }

    #[test]
    fn a_slow_burn_and_a_ticket_use_their_own_pairs_and_factors() {
        let slow = evaluate(o(0.999), &ratios(&[(H6, 0.007), (M30, 0.007)]));
        assert!(slow.slow_burn && !slow.fast_burn && !slow.ticket);
        let ticket = evaluate(o(0.999), &ratios(&[(D3, 0.002), (H6, 0.002)]));
        assert!(ticket.ticket && !ticket.slow_burn);
        assert_eq!(ticket.most_urgent(), Some(BurnAlert::Ticket));
    }

    #[test]
    fn a_heavy_burn_fires_every_pair_and_the_fast_one_is_most_urgent() {
        let a = evaluate(o(0.999), &all(0.5));
        assert!(a.fast_burn && a.slow_burn && a.ticket);
        assert_eq!(a.most_urgent(), Some(BurnAlert::FastBurn));
        assert!(a.fires(BurnAlert::SlowBurn));
    }

    #[test]
    fn a_window_without_data_fires_nothing_and_reports_no_rate() {
        let mut input = all(0.5);
        input[0].error_ratio = None; // 5m
        let a = evaluate(o(0.999), &input);
        assert!(!a.fast_burn && a.slow_burn);
        assert_eq!(a.rate(M5), None);
        let nan = evaluate(o(0.999), &ratios(&[(H1, 0.5), (M5, f64::NAN)]));
        assert!(!nan.fast_burn);
        assert_eq!(evaluate(o(0.999), &[]).most_urgent(), None);
    }

    #[test]
    fn rates_are_listed_for_every_window_in_order() {
        let a = evaluate(o(0.9), &ratios(&[(D3, 0.01)]));
        let windows: Vec<_> = a.rates.iter().map(|r| r.window).collect();
        assert_eq!(windows, BurnWindow::ALL);
        assert!((a.rate(D3).unwrap() - 0.1).abs() < 1e-9);
    }

    #[test]
    fn a_window_given_twice_counts_with_its_higher_ratio() {
        let a = evaluate(o(0.999), &ratios(&[(H1, 0.001), (H1, 0.02), (M5, 0.02)]));
        assert!(a.fast_burn);
    }

    #[test]
    fn windows_travel_as_prometheus_durations() {
        assert_eq!(serde_json::to_string(&D3).unwrap(), "\"3d\"");
        assert_eq!(serde_json::from_str::<BurnWindow>("\"30m\"").unwrap(), M30);
        for w in BurnWindow::ALL {
            assert_eq!(prom_duration(w.secs()), w.promql());
        }
        let a = evaluate(o(0.999), &all(0.0));
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["rates"][0]["window"], "5m");
        assert_eq!(json["fast_burn"], false);
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(prom_duration(300), "5m");
        assert_eq!(prom_duration(30 * 86_400), "30d");
        assert_eq!(prom_duration(5400), "90m");
        assert_eq!(prom_duration(90), "90s");
        assert_eq!(prom_duration(0), "0s");
    }

    #[test]
    fn templates_get_each_window_in_place_of_the_placeholder() {
        let good = r#"sum(rate(http_requests_total{job="checkout",code!~"5.."}[$window]))"#;
        let total = r#"sum(rate(http_requests_total{job="checkout"}[$window]))"#;
        let q = ratio_queries(good, total, 2_592_000);
        assert_eq!(
            q.good,
            r#"sum(rate(http_requests_total{job="checkout",code!~"5.."}[30d]))"#
        );
        assert_eq!(
            q.total,
            r#"sum(rate(http_requests_total{job="checkout"}[30d]))"#
        );
        let windows = burn_queries(good, total);
        assert_eq!(windows.len(), 5);
        assert_eq!(windows[0].0, M5);
        assert!(windows[4].1.total.contains("[3d]"));
        assert_eq!(render("a[$window] / b[$window]", 3600), "a[1h] / b[1h]");
        assert_eq!(render("up", 3600), "up");
    }

    #[test]
    fn a_threshold_query_counts_points_meeting_it_and_drops_nan_points() {
        let q = threshold_query("p99", Comparison::Le, 0.3, 3600, 60);
        assert_eq!(
            q,
            "avg_over_time((((p99) <= bool 0.3) and ((p99) == (p99)))[1h:1m])"
        );
        assert!(threshold_query("x", Comparison::Gt, 1.0, 300, 0).ends_with("[5m:1s])"));
    }

    #[test]
    fn the_step_is_raised_only_when_the_range_would_exceed_11000_points() {
        assert_eq!(clamp_step(3600, 15), 15);
        // 30 days at 15 s would be 172 801 points.
        let step = clamp_step(30 * 86_400, 15);
        assert_eq!(step, 236);
        assert!(points(30 * 86_400, step) <= MAX_POINTS);
        assert_eq!(clamp_step(60, 0), 1);
        assert_eq!(points(10_999, 1), 11_000);
        assert_eq!(clamp_step(10_999, 1), 1);
        assert_eq!(clamp_step(11_000, 1), 2);
    }

    proptest! {
        #[test]
        fn a_higher_error_ratio_never_lowers_the_assessment(
            objective in 0.5f64..0.99999,
            low in proptest::collection::vec(0.0f64..=1.0, 5),
            bump in proptest::collection::vec(0.0f64..=1.0, 5),
            missing in proptest::collection::vec(any::<bool>(), 5),
        ) {
            let build = |values: &[f64]| -> Vec<WindowErrorRatio> {
                BurnWindow::ALL.iter().zip(values).zip(&missing)
                    .map(|((&window, &e), &gone)| WindowErrorRatio {
                        window, error_ratio: (!gone).then_some(e),
                    })
                    .collect()
            };
            let high: Vec<f64> = low.iter().zip(&bump).map(|(l, b)| l + (1.0 - l) * b).collect();
            let (a, b) = (evaluate(o(objective), &build(&low)), evaluate(o(objective), &build(&high)));
            prop_assert!(!a.fast_burn || b.fast_burn);
            prop_assert!(!a.slow_burn || b.slow_burn);
            prop_assert!(!a.ticket || b.ticket);
            for w in BurnWindow::ALL {
                prop_assert!(a.rate(w) <= b.rate(w));
            }
        }

        #[test]
        fn the_clamped_step_keeps_within_11000_points_and_never_below_the_desired_step(
            range in 0u64..=400 * 86_400, desired in 0u64..=100_000,
        ) {
            let step = clamp_step(range, desired);
            prop_assert!(step >= desired.max(1));
            prop_assert!(points(range, step) <= MAX_POINTS);
            // And it is no larger than needed: one second less would be too many points
            // (unless the desired step already set it).
            if step > desired.max(1) {
                prop_assert!(points(range, step - 1) > MAX_POINTS);
            }
        }
    }
}
