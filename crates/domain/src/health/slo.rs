//! SLO arithmetic: the SLI's current value, the error budget, how much of it is left and when it
//! runs out at the current burn rate.
//!
//! Prometheus sends sample values as strings, and `"NaN"`, `"+Inf"` and `"-Inf"` are ordinary
//! answers: a ratio with no traffic is `0/0 = NaN`, a `histogram_quantile` above the highest
//! bucket is `+Inf`. [`parse_sample`] reads them faithfully; every function here then decides
//! explicitly what a non-finite input means and answers `None` rather than a NaN, so a missing
//! measurement can never turn into a plausible-looking number on a dashboard.

use flightdeck_model::FieldError;
use serde::{Deserialize, Serialize};

/// Shortest SLO window accepted: five minutes. Shorter windows are alerting, not objectives.
pub const MIN_WINDOW_SECS: u64 = 5 * 60;
/// Longest SLO window accepted: a leap year.
pub const MAX_WINDOW_SECS: u64 = 366 * 24 * 3600;
/// Query templates are PromQL, and PromQL this long is a mistake, not an SLI.
pub const MAX_QUERY_LEN: usize = 4000;

/// An SLO objective such as `0.999`: strictly between 0 and 1. Holding one proves the error
/// budget is positive, so dividing by it (burn rates) can never produce an infinity or a NaN.
/// On the wire it is a plain number; anything outside (0, 1) is refused when deserializing.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Objective(f64);

/// An objective outside (0, 1).
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("an objective must be a number between 0 and 1 (exclusive), such as 0.999; got {0}")]
pub struct InvalidObjective(pub f64);

impl Objective {
    pub fn new(value: f64) -> Result<Self, InvalidObjective> {
        // `0.0 < NaN` is false, so NaN is refused here too.
        if value > 0.0 && value < 1.0 {
            Ok(Objective(value))
        } else {
            Err(InvalidObjective(value))
        }
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Objective {
    type Error = InvalidObjective;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Objective::new(value)
    }
}

impl From<Objective> for f64 {
    fn from(o: Objective) -> f64 {
        o.0
    }
}

/// How an SLO's indicator is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sli {
    /// The fraction of good events: `good / total`. Both are PromQL templates in which `$window`
    /// stands for the range, e.g. `sum(rate(http_requests_total{code!~"5.."}[$window]))` (see
    /// [`crate::health::burn::render`]). Both must count the same way (both `rate` or both
    /// `increase`) so that their quotient is a ratio.
    Ratio { good: String, total: String },
    /// The fraction of evaluation points at which a value meets a threshold, e.g. p99 latency
    /// `le` 0.3 seconds. `query` is an instant-value PromQL expression (its own inner ranges are
    /// its business; it takes no `$window`).
    Threshold {
        query: String,
        comparison: Comparison,
        threshold: f64,
    },
}

/// How a value is compared with a threshold; the names follow Prometheus' `le` bucket label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// value ≤ threshold (latency targets).
    Le,
    /// value < threshold.
    Lt,
    /// value ≥ threshold (throughput or saturation floors).
    Ge,
    /// value > threshold.
    Gt,
}

impl Comparison {
    /// Whether `value` meets `threshold`. NaN never meets anything (every comparison with NaN
    /// is false); `+Inf ≤ 0.3` is false, as it should be for a quantile above every bucket.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Le => value <= threshold,
            Comparison::Lt => value < threshold,
            Comparison::Ge => value >= threshold,
            Comparison::Gt => value > threshold,
        }
    }

    /// The PromQL operator.
    pub fn promql(self) -> &'static str {
        match self {
            Comparison::Le => "<=",
            Comparison::Lt => "<",
            Comparison::Ge => ">=",
            Comparison::Gt => ">",
        }
    }
}

/// A service level objective: `objective` of the SLI over a rolling window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// E.g. `0.999` for 99.9 %.
    pub objective: Objective,
    /// The rolling window, in seconds (30 days = 2 592 000).
    pub window_secs: u64,
    pub sli: Sli,
}

/// Checks an SLO definition as given in a create or update request; errors name the field
/// (`window_secs`, `sli.good`, …). The objective is already valid by its type.
pub fn validate_slo(slo: &Slo) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, message: &str| {
        errors.push(FieldError {
            field: field.to_owned(),
            message: message.to_owned(),
        })
    };
    if !(MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&slo.window_secs) {
        err(
            "window_secs",
            "must be between 300 (five minutes) and 31622400 (366 days)",
        );
    }
    let mut query = |field: &str, q: &str, needs_window: bool| {
        if q.trim().is_empty() || q.len() > MAX_QUERY_LEN {
            err(field, "must be a PromQL expression of 1 to 4000 characters");
        } else if needs_window && !q.contains(crate::health::burn::WINDOW_PLACEHOLDER) {
            err(
                field,
                "must contain $window where the range goes, e.g. rate(x_total[$window])",
            );
        }
    };
    match &slo.sli {
        Sli::Ratio { good, total } => {
            query("sli.good", good, true);
            query("sli.total", total, true);
        }
        Sli::Threshold {
            query: q,
            threshold,
            ..
        } => {
            query("sli.query", q, false);
            if !threshold.is_finite() {
                err("sli.threshold", "must be a finite number");
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Reads a Prometheus sample value. Prometheus (Go's `FormatFloat`) writes `NaN`, `+Inf` and
/// `-Inf`; those map to the matching `f64`, case-insensitively and with `Inf` unsigned too, as
/// Go reads them. Anything else must be a plain decimal number (`1`, `-0.5`, `1.5e-3`);
/// garbage, empty strings, padding and Rust-only spellings such as `infinity` are `None`.
/// Values beyond `f64` range read as ±infinity, as in Go.
pub fn parse_sample(s: &str) -> Option<f64> {
    let is = |word: &str| s.eq_ignore_ascii_case(word);
    if is("nan") {
        Some(f64::NAN)
    } else if is("+inf") || is("inf") {
        Some(f64::INFINITY)
    } else if is("-inf") {
        Some(f64::NEG_INFINITY)
    } else if !s.is_empty()
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        s.parse().ok()
    } else {
        None
    }
}

/// The SLI from good and total event counts (or rates), as a fraction in [0, 1].
///
/// `None` when there is nothing to measure or the inputs are not numbers: `total` is 0 (no
/// traffic is neither good nor bad), either count is NaN or infinite, or either is negative.
/// A `good` slightly above `total` — two independently extrapolated `rate()`s — is clamped to 1.
pub fn sli_from_counts(good: f64, total: f64) -> Option<f64> {
    if !good.is_finite() || !total.is_finite() || good < 0.0 || total <= 0.0 {
        return None;
    }
    Some((good / total).min(1.0))
}

/// A threshold SLI: the fraction of `values` (evaluation points, e.g. a range query's samples of
/// p99 latency) that meet `threshold`.
///
/// NaN points are skipped: `histogram_quantile` answers NaN when there was no traffic, and no
/// traffic met or missed nothing. ±Inf points are compared as they are (a quantile above the
/// highest bucket misses a latency target). `None` when no point is a number, or the threshold
/// is not finite.
pub fn threshold_sli(values: &[f64], comparison: Comparison, threshold: f64) -> Option<f64> {
    if !threshold.is_finite() {
        return None;
    }
    let points = values.iter().filter(|v| !v.is_nan());
    let (met, total) = points.fold((0u64, 0u64), |(met, total), v| {
        (met + u64::from(comparison.holds(*v, threshold)), total + 1)
    });
    (total > 0).then(|| met as f64 / total as f64)
}

/// The error budget: the fraction of events allowed to be bad, `1 - objective` (0.001 for 99.9 %).
pub fn error_budget(objective: Objective) -> f64 {
    1.0 - objective.value()
}

/// How much of the error budget is left, given the SLI over the whole SLO window.
///
/// 1 is untouched, 0 is exactly spent, and it goes **negative** when the budget is overspent:
/// −0.5 means errors at 1.5 times the budget. It is not clamped, so the dashboard can say how far
/// over an SLO is and sort by it. `None` when `sli` is not a number in [0, 1].
pub fn budget_remaining(objective: Objective, sli: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&sli) {
        return None;
    }
    Some(1.0 - (1.0 - sli) / error_budget(objective))
}

/// When the error budget runs out if the current burn rate continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exhaustion {
    /// Nothing is left (or the budget is overspent).
    Exhausted,
    /// The burn rate is zero: at this pace it never runs out.
    Never,
    /// It runs out this many seconds from now.
    After { secs: u64 },
}

/// Time to exhaustion: at burn rate 1 the whole budget lasts exactly one SLO window, so at burn
/// rate `b` the `remaining` fraction lasts `remaining × window / b`.
///
/// This is a projection, not a forecast: it assumes the burn continues and ignores old errors
/// leaving the rolling window. `None` when an input is NaN or infinite, or the burn rate is
/// negative.
pub fn time_to_exhaustion(remaining: f64, burn_rate: f64, window_secs: u64) -> Option<Exhaustion> {
    if !remaining.is_finite() || !burn_rate.is_finite() || burn_rate < 0.0 {
        return None;
    }
    Some(if remaining <= 0.0 {
        Exhaustion::Exhausted
    } else if burn_rate == 0.0 {
        Exhaustion::Never
    } else {
        // `as` saturates, so an absurdly slow burn reads as u64::MAX seconds, not garbage.
        Exhaustion::After {
            secs: (remaining * window_secs as f64 / burn_rate).floor() as u64,
        }
    })
}

/// What an SLO card shows: target, current value, budget and when it runs out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SloSummary {
    pub objective: Objective,
    /// `1 - objective`.
    pub error_budget: f64,
    /// The SLI over the SLO window; `None`: no data (no traffic, or not measured yet).
    pub current: Option<f64>,
    /// See [`budget_remaining`]; negative when overspent.
    pub budget_remaining: Option<f64>,
    /// See [`time_to_exhaustion`]; `None` when the SLI or the burn rate is unknown.
    pub exhaustion: Option<Exhaustion>,
}

/// Summarises an SLO from its SLI over the whole window and a recent burn rate (the caller picks
/// which; the 1 h rate is a good "at the current pace").
pub fn summarize(
    objective: Objective,
    window_secs: u64,
    current: Option<f64>,
    burn_rate: Option<f64>,
) -> SloSummary {
    let remaining = current.and_then(|sli| budget_remaining(objective, sli));
    SloSummary {
        objective,
        error_budget: error_budget(objective),
        current: current.filter(|sli| (0.0..=1.0).contains(sli)),
        budget_remaining: remaining,
        exhaustion: remaining
            .zip(burn_rate)
            .and_then(|(r, b)| time_to_exhaustion(r, b, window_secs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAYS_30: u64 = 30 * 24 * 3600;

    fn o(v: f64) -> Objective {
        Objective::new(v).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn an_objective_must_lie_strictly_between_zero_and_one() {
        assert_eq!(o(0.999).value(), 0.999);
        for bad in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(Objective::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            InvalidObjective(1.0).to_string(),
            "an objective must be a number between 0 and 1 (exclusive), such as 0.999; got 1"
        );
    }

    #[test]
    fn an_objective_travels_as_a_plain_number_and_bad_ones_are_refused_on_the_wire() {
        assert_eq!(serde_json::to_string(&o(0.99)).unwrap(), "0.99");
        let slo: Slo = serde_json::from_str(
            r#"{"objective": 0.999, "window_secs": 2592000,
                "sli": {"kind": "ratio", "good": "a[$window]", "total": "b[$window]"}}"#,
        )
        .unwrap();
        assert_eq!(slo.objective, o(0.999));
        let bad = serde_json::from_str::<Slo>(
            r#"{"objective": 1.0, "window_secs": 2592000,
                "sli": {"kind": "threshold", "query": "p99", "comparison": "le", "threshold": 0.3}}"#,
        );
        assert!(bad.unwrap_err().to_string().contains("between 0 and 1"));
    }

    #[test]
    fn prometheus_special_values_parse_to_their_floats() {
        assert!(parse_sample("NaN").unwrap().is_nan());
        assert_eq!(parse_sample("+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_sample("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_sample("Inf"), Some(f64::INFINITY));
        assert!(parse_sample("nan").unwrap().is_nan());
    }

    #[test]
    fn plain_numbers_parse_and_garbage_is_refused() {
        assert_eq!(parse_sample("0.999"), Some(0.999));
        assert_eq!(parse_sample("-1.5e-3"), Some(-0.0015));
        assert_eq!(parse_sample("42"), Some(42.0));
        assert_eq!(parse_sample("1e400"), Some(f64::INFINITY));
        for bad in [
            "", " 1", "1 ", "abc", "infinity", "0x10", "1,5", "--1", "e", ".", "+", "1e", "NaN ",
        ] {
            assert_eq!(parse_sample(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_sli_is_good_over_total_and_none_without_traffic() {
        assert_eq!(sli_from_counts(999.0, 1000.0), Some(0.999));
        assert_eq!(sli_from_counts(0.0, 0.0), None);
        assert_eq!(sli_from_counts(5.0, 0.0), None);
    }

    #[test]
    fn non_numbers_and_negative_counts_give_no_sli_rather_than_nan() {
        assert_eq!(sli_from_counts(f64::NAN, 10.0), None);
        assert_eq!(sli_from_counts(1.0, f64::NAN), None);
        assert_eq!(sli_from_counts(1.0, f64::INFINITY), None);
        assert_eq!(sli_from_counts(-1.0, 10.0), None);
    }

    #[test]
    fn good_slightly_above_total_from_rate_extrapolation_is_clamped_to_one() {
        assert_eq!(sli_from_counts(100.2, 100.0), Some(1.0));
    }

    #[test]
    fn comparisons_hold_as_their_names_say_and_never_for_nan() {
        assert!(Comparison::Le.holds(0.3, 0.3));
        assert!(!Comparison::Lt.holds(0.3, 0.3));
        assert!(Comparison::Ge.holds(0.3, 0.3));
        assert!(!Comparison::Gt.holds(0.3, 0.3));
        for c in [
            Comparison::Le,
            Comparison::Lt,
            Comparison::Ge,
            Comparison::Gt,
        ] {
            assert!(!c.holds(f64::NAN, 0.3));
        }
        assert_eq!(Comparison::Le.promql(), "<=");
        assert_eq!(Comparison::Gt.promql(), ">");
    }

    #[test]
    fn a_threshold_sli_is_the_fraction_of_points_meeting_it() {
        let p99 = [0.1, 0.2, 0.5, 0.25];
        assert_eq!(threshold_sli(&p99, Comparison::Le, 0.3), Some(0.75));
    }

    #[test]
    fn a_threshold_sli_skips_nan_points_and_counts_infinity_as_a_miss() {
        let p99 = [0.1, f64::NAN, f64::INFINITY, f64::NAN];
        assert_eq!(threshold_sli(&p99, Comparison::Le, 0.3), Some(0.5));
        assert_eq!(threshold_sli(&[f64::NAN], Comparison::Le, 0.3), None);
        assert_eq!(threshold_sli(&[], Comparison::Le, 0.3), None);
        assert_eq!(threshold_sli(&[0.1], Comparison::Le, f64::NAN), None);
    }

    #[test]
    fn the_error_budget_is_one_minus_the_objective() {
        assert!(close(error_budget(o(0.999)), 0.001));
        assert!(close(error_budget(o(0.95)), 0.05));
    }

    #[test]
    fn budget_remaining_is_one_untouched_zero_spent_and_negative_overspent() {
        assert!(close(budget_remaining(o(0.999), 1.0).unwrap(), 1.0));
        assert!(close(budget_remaining(o(0.999), 0.9995).unwrap(), 0.5));
        assert!(close(budget_remaining(o(0.999), 0.999).unwrap(), 0.0));
        assert!(close(budget_remaining(o(0.999), 0.9985).unwrap(), -0.5));
    }

    #[test]
    fn budget_remaining_refuses_an_sli_that_is_not_a_fraction() {
        for bad in [f64::NAN, f64::INFINITY, -0.1, 1.1] {
            assert_eq!(budget_remaining(o(0.999), bad), None);
        }
    }

    #[test]
    fn at_burn_rate_one_a_full_budget_lasts_exactly_one_window() {
        assert_eq!(
            time_to_exhaustion(1.0, 1.0, DAYS_30),
            Some(Exhaustion::After { secs: DAYS_30 })
        );
        // Half the budget at 10×: 1.5 days.
        assert_eq!(
            time_to_exhaustion(0.5, 10.0, DAYS_30),
            Some(Exhaustion::After { secs: 129_600 })
        );
    }

    #[test]
    fn a_spent_budget_is_exhausted_and_a_zero_burn_never_exhausts() {
        assert_eq!(
            time_to_exhaustion(0.0, 2.0, DAYS_30),
            Some(Exhaustion::Exhausted)
        );
        assert_eq!(
            time_to_exhaustion(-0.3, 0.0, DAYS_30),
            Some(Exhaustion::Exhausted)
        );
        assert_eq!(
            time_to_exhaustion(0.4, 0.0, DAYS_30),
            Some(Exhaustion::Never)
        );
    }

    #[test]
    fn time_to_exhaustion_is_none_for_non_numbers_and_negative_burn() {
        assert_eq!(time_to_exhaustion(f64::NAN, 1.0, DAYS_30), None);
        assert_eq!(time_to_exhaustion(0.5, f64::INFINITY, DAYS_30), None);
        assert_eq!(time_to_exhaustion(0.5, -1.0, DAYS_30), None);
    }

    #[test]
    fn a_summary_combines_value_budget_and_exhaustion() {
        let s = summarize(o(0.999), DAYS_30, Some(0.9995), Some(1.0));
        assert!(close(s.error_budget, 0.001));
        assert_eq!(s.current, Some(0.9995));
        assert!(close(s.budget_remaining.unwrap(), 0.5));
        assert_eq!(s.exhaustion, Some(Exhaustion::After { secs: DAYS_30 / 2 }));
        let empty = summarize(o(0.999), DAYS_30, None, Some(3.0));
        assert_eq!(
            (empty.current, empty.budget_remaining, empty.exhaustion),
            (None, None, None)
        );
    }

    fn ratio_slo(good: &str, total: &str, window_secs: u64) -> Slo {
        Slo {
            objective: o(0.999),
            window_secs,
            sli: Sli::Ratio {
                good: good.into(),
                total: total.into(),
            },
        }
    }

    #[test]
    fn a_valid_slo_passes_validation() {
        let slo = ratio_slo(
            r#"sum(rate(http_requests_total{code!~"5.."}[$window]))"#,
            "sum(rate(http_requests_total[$window]))",
            DAYS_30,
        );
        assert_eq!(validate_slo(&slo), Ok(()));
        let threshold = Slo {
            sli: Sli::Threshold {
                query: "histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))".into(),
                comparison: Comparison::Le,
                threshold: 0.3,
            },
            ..slo
        };
        assert_eq!(validate_slo(&threshold), Ok(()));
    }

    #[test]
    fn invalid_slos_are_reported_per_field() {
        let fields = |slo: &Slo| -> Vec<String> {
            validate_slo(slo)
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(
            fields(&ratio_slo("rate(x[5m])", " ", 60)),
            ["window_secs", "sli.good", "sli.total"]
        );
        let threshold = Slo {
            objective: o(0.99),
            window_secs: DAYS_30,
            sli: Sli::Threshold {
                query: "p99".into(),
                comparison: Comparison::Le,
                threshold: f64::INFINITY,
            },
        };
        assert_eq!(fields(&threshold), ["sli.threshold"]);
    }

    proptest! {
        #[test]
        fn budget_remaining_never_rises_as_the_sli_falls(
            objective in 0.5f64..0.99999, a in 0.0f64..=1.0, b in 0.0f64..=1.0,
        ) {
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            let o = o(objective);
            prop_assert!(budget_remaining(o, low).unwrap() <= budget_remaining(o, high).unwrap());
        }

        #[test]
        fn an_sli_from_counts_is_always_a_fraction_or_none(good in any::<f64>(), total in any::<f64>()) {
            if let Some(sli) = sli_from_counts(good, total) {
                prop_assert!((0.0..=1.0).contains(&sli));
            }
        }

        #[test]
        fn parse_sample_reads_back_what_rust_prints(x in any::<f64>()) {
            // Rust prints NaN as "NaN" and infinities as "inf": the Prometheus forms cover them.
            let text = if x.is_nan() { "NaN".to_owned() }
                else if x.is_infinite() { if x > 0.0 { "+Inf".into() } else { "-Inf".into() } }
                else { format!("{x:e}") };
            let back = parse_sample(&text).unwrap();
            prop_assert!(back == x || (back.is_nan() && x.is_nan()));
        }
    }
}
