//! Runs an SLO's PromQL and hands the numbers to the domain: the SLI over the SLO window, the
//! budget left, and the burn-rate assessment over the SRE workbook's window pairs. All the
//! arithmetic is the domain's ([`flightdeck_domain::health::slo`], [`burn`]); this file only asks
//! Prometheus.

use chrono::{DateTime, Utc};
use flightdeck_domain::health::burn::{
    self, BurnAssessment, BurnWindow, WindowErrorRatio, clamp_step, ratio_queries, threshold_query,
};
use flightdeck_domain::health::slo::{
    Comparison, Sli, Slo, SloSummary, sli_from_counts, summarize,
};

use super::{PromError, Prometheus};

/// One evaluation of one SLO at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct SloEvaluation {
    pub at: DateTime<Utc>,
    /// Current value, budget left and time to exhaustion (at the 1 h burn rate).
    pub summary: SloSummary,
    /// Burn rates per window and which workbook alerts fire.
    pub burn: BurnAssessment,
    /// The error ratio measured over each burn window, in [`BurnWindow::ALL`] order.
    pub error_ratios: Vec<WindowErrorRatio>,
}

/// Evaluates SLOs against one Prometheus.
#[derive(Debug, Clone)]
pub struct SloEvaluator {
    prometheus: Prometheus,
    threshold_resolution_secs: u64,
}

impl SloEvaluator {
    /// Threshold SLIs are sampled once a minute unless told otherwise.
    pub fn new(prometheus: Prometheus) -> Self {
        SloEvaluator {
            prometheus,
            threshold_resolution_secs: 60,
        }
    }

    /// How often a threshold SLI's value is sampled inside a window (the subquery resolution).
    /// It is raised for long windows so that no window has more than 11,000 points.
    pub fn with_threshold_resolution(mut self, secs: u64) -> Self {
        self.threshold_resolution_secs = secs.max(1);
        self
    }

    /// Evaluates `slo` at `at`. The queries run one after another; any Prometheus error fails
    /// the whole evaluation (a half-measured SLO would look healthier than it is), while an
    /// empty answer or no traffic is "no data" (`None`) for that window.
    pub async fn evaluate(&self, slo: &Slo, at: DateTime<Utc>) -> Result<SloEvaluation, PromError> {
        let current = self.sli(&slo.sli, slo.window_secs, at).await?;
        let mut error_ratios = Vec::with_capacity(BurnWindow::ALL.len());
        for window in BurnWindow::ALL {
            let sli = self.sli(&slo.sli, window.secs(), at).await?;
            error_ratios.push(WindowErrorRatio {
                window,
                error_ratio: sli.map(|s| 1.0 - s),
            });
        }
        let burn = burn::evaluate(slo.objective, &error_ratios);
        let summary = summarize(
            slo.objective,
            slo.window_secs,
            current,
            burn.rate(BurnWindow::H1),
        );
        Ok(SloEvaluation {
            at,
            summary,
            burn,
            error_ratios,
        })
    }

    /// The SLI over one window: good/total for a ratio SLI, the fraction of points meeting the
    /// threshold for a threshold SLI. `None` when there is no data or no traffic.
    async fn sli(
        &self,
        sli: &Sli,
        window_secs: u64,
        at: DateTime<Utc>,
    ) -> Result<Option<f64>, PromError> {
        match sli {
            Sli::Ratio { good, total } => {
                let q = ratio_queries(good, total, window_secs);
                let good = self.value(&q.good, at).await?;
                let total = self.value(&q.total, at).await?;
                // "No traffic" (total 0), NaN and negative counts are the domain's to judge.
                Ok(good.zip(total).and_then(|(g, t)| sli_from_counts(g, t)))
            }
            Sli::Threshold {
                query,
                comparison,
                threshold,
            } => {
                self.threshold(query, *comparison, *threshold, window_secs, at)
                    .await
            }
        }
    }

    async fn threshold(
        &self,
        query: &str,
        comparison: Comparison,
        threshold: f64,
        window_secs: u64,
        at: DateTime<Utc>,
    ) -> Result<Option<f64>, PromError> {
        let resolution = clamp_step(window_secs, self.threshold_resolution_secs);
        let q = threshold_query(query, comparison, threshold, window_secs, resolution);
        Ok(self
            .value(&q, at)
            .await?
            .filter(|v| (0.0..=1.0).contains(v)))
    }

    async fn value(&self, query: &str, at: DateTime<Utc>) -> Result<Option<f64>, PromError> {
        Ok(self
            .prometheus
            .instant(query, at)
            .await?
            .result
            .single_value())
    }
}
