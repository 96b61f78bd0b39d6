//! Prometheus' HTTP API: `/api/v1/query` and `/api/v1/query_range`, both POSTed form-encoded
//! (long PromQL would not fit in a URL), and the response envelope
//! `{status, data: {resultType, result}, errorType, error, warnings}`.
//!
//! Sample values arrive as strings, and `"NaN"`, `"+Inf"` and `"-Inf"` are ordinary answers
//! (`0/0`, a quantile above the highest bucket); they are read with the domain's
//! [`parse_sample`] so the rest of Flightdeck sees real `f64`s and decides what a NaN means.

mod evaluator;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use flightdeck_domain::health::burn::clamp_step;
use flightdeck_domain::health::slo::parse_sample;
use serde::Deserialize;

use crate::auth::{Auth, base_url};

pub use evaluator::{SloEvaluation, SloEvaluator};

/// What can go wrong asking Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("invalid Prometheus URL: {0}")]
    InvalidUrl(String),
    /// Prometheus answered with an error envelope (`status: "error"`): a bad query (400
    /// `bad_data`), an execution failure (422 `execution`, e.g. too many points) or an overloaded
    /// or timed-out evaluation (503 `timeout`/`unavailable`). `message` is Prometheus' own.
    #[error("Prometheus refused the query ({error_type}, HTTP {status}): {message}")]
    Query {
        status: u16,
        error_type: String,
        message: String,
    },
    /// No answer within the client's timeout.
    #[error("Prometheus did not answer within {0:?}")]
    Timeout(Duration),
    /// An HTTP failure that is not Prometheus' envelope (an auth proxy's 401, a gateway's 502).
    #[error("Prometheus answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("could not reach Prometheus: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx answer that is not the documented envelope.
    #[error("unexpected answer from Prometheus: {0}")]
    Malformed(String),
}

/// One sample: when, and the value (possibly NaN or ±Inf).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// A labelled value of an instant vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: BTreeMap<String, String>,
    pub point: Point,
}

/// A labelled series of a range matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub metric: BTreeMap<String, String>,
    pub points: Vec<Point>,
}

/// The `data.result` of a query, by `resultType`.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
    Scalar(Point),
    String { at: DateTime<Utc>, value: String },
}

impl QueryResult {
    /// The single number an instant query answered: a scalar, or the sum over a vector's
    /// samples (an SLI query is expected to `sum` itself; summing keeps a forgotten `sum` from
    /// silently picking one series). `None` for an empty vector (no data) and for anything else.
    pub fn single_value(&self) -> Option<f64> {
        match self {
            QueryResult::Scalar(p) => Some(p.value),
            QueryResult::Vector(samples) if !samples.is_empty() => {
                Some(samples.iter().map(|s| s.point.value).sum())
            }
            _ => None,
        }
    }
}

/// A successful answer, with any warnings Prometheus attached.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryData {
    pub result: QueryResult,
    pub warnings: Vec<String>,
}

/// A range query's answer and the step actually used (see [`Prometheus::range`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RangeData {
    pub step_secs: u64,
    pub series: Vec<Series>,
    pub warnings: Vec<String>,
}

/// A Prometheus HTTP API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Prometheus {
    http: reqwest::Client,
    base: url::Url,
    auth: Auth,
    timeout: Duration,
}

impl Prometheus {
    /// A client for the Prometheus at `base_url` (a path prefix such as `/prometheus` is kept).
    /// Every request, connection included, must finish within `timeout`.
    pub fn new(base_url_str: &str, timeout: Duration, auth: Auth) -> Result<Self, PromError> {
        let base = base_url(base_url_str).map_err(PromError::InvalidUrl)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(PromError::Transport)?;
        Ok(Prometheus {
            http,
            base,
            auth,
            timeout,
        })
    }

    /// Evaluates `query` at the instant `at`.
    pub async fn instant(&self, query: &str, at: DateTime<Utc>) -> Result<QueryData, PromError> {
        let form = [("query", query.to_owned()), ("time", prom_time(at))];
        let data = self.post("api/v1/query", &form).await?;
        Ok(QueryData {
            result: data.result()?,
            warnings: data.warnings,
        })
    }

    /// Evaluates `query` over `[start, end]` every `step_secs`. The step is raised with the
    /// domain's [`clamp_step`] so no series has more than 11,000 points (Prometheus refuses
    /// more); the step used is in the answer.
    pub async fn range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step_secs: u64,
    ) -> Result<RangeData, PromError> {
        let range_secs = u64::try_from((end - start).num_seconds()).unwrap_or(0);
        let step = clamp_step(range_secs, step_secs);
        let form = [
            ("query", query.to_owned()),
            ("start", prom_time(start)),
            ("end", prom_time(end)),
            ("step", step.to_string()),
        ];
        let data = self.post("api/v1/query_range", &form).await?;
        let series = match data.result()? {
            QueryResult::Matrix(series) => series,
            other => {
                return Err(PromError::Malformed(format!(
                    "a range query answered {other:?} instead of a matrix"
                )));
            }
        };
        Ok(RangeData {
            step_secs: step,
            series,
            warnings: data.warnings,
        })
    }

    async fn post(&self, path: &str, form: &[(&str, String)]) -> Result<Data, PromError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| PromError::InvalidUrl(e.to_string()))?;
        let request = self.auth.apply(self.http.post(url).form(form));
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| self.transport(e))?;
        let envelope: Option<Envelope> = serde_json::from_slice(&body).ok();
        match envelope {
            Some(Envelope {
                status: EnvelopeStatus::Error,
                error_type,
                error,
                ..
            }) => Err(PromError::Query {
                status: status.as_u16(),
                error_type: error_type.unwrap_or_default(),
                message: error.unwrap_or_default(),
            }),
            Some(Envelope {
                status: EnvelopeStatus::Success,
                data: Some(data),
                warnings,
                ..
            }) if status.is_success() => Ok(Data {
                result_type: data.result_type,
                result: data.result,
                warnings,
            }),
            _ if !status.is_success() => Err(PromError::Http {
                status: status.as_u16(),
                body: truncate(&String::from_utf8_lossy(&body)),
            }),
            _ => Err(PromError::Malformed(truncate(&String::from_utf8_lossy(
                &body,
            )))),
        }
    }

    fn transport(&self, e: reqwest::Error) -> PromError {
        if e.is_timeout() {
            PromError::Timeout(self.timeout)
        } else {
            PromError::Transport(e)
        }
    }
}

/// A time as Prometheus reads it: Unix seconds with millisecond precision.
fn prom_time(t: DateTime<Utc>) -> String {
    let ms = t.timestamp_millis();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

fn truncate(s: &str) -> String {
    const MAX: usize = 512;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum EnvelopeStatus {
    Success,
    Error,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    status: EnvelopeStatus,
    data: Option<RawData>,
    error_type: Option<String>,
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawData {
    result_type: String,
    result: serde_json::Value,
}

struct Data {
    result_type: String,
    result: serde_json::Value,
    warnings: Vec<String>,
}

/// `[<unix seconds as a number>, "<value as a string>"]`.
type RawPoint = (f64, String);

#[derive(Deserialize)]
struct RawSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: RawPoint,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<RawPoint>,
}

impl Data {
    fn result(&self) -> Result<QueryResult, PromError> {
        fn decode<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, PromError> {
            T::deserialize(v).map_err(|e| PromError::Malformed(format!("data.result: {e}")))
        }
        Ok(match self.result_type.as_str() {
            "vector" => QueryResult::Vector(
                decode::<Vec<RawSample>>(&self.result)?
                    .into_iter()
                    .map(|s| {
                        Ok(Sample {
                            metric: s.metric,
                            point: point(&s.value)?,
                        })
                    })
                    .collect::<Result<_, PromError>>()?,
            ),
            "matrix" => QueryResult::Matrix(
                decode::<Vec<RawSeries>>(&self.result)?
                    .into_iter()
                    .map(|s| {
                        Ok(Series {
                            points: s.values.iter().map(point).collect::<Result<_, _>>()?,
                            metric: s.metric,
                        })
                    })
                    .collect::<Result<_, PromError>>()?,
            ),
            "scalar" => QueryResult::Scalar(point(&decode(&self.result)?)?),
            "string" => {
                let (t, value): RawPoint = decode(&self.result)?;
                QueryResult::String {
                    at: timestamp(t)?,
                    value,
                }
            }
            other => {
                return Err(PromError::Malformed(format!(
                    "unknown resultType {other:?}"
                )));
            }
        })
    }
}

fn point((t, v): &RawPoint) -> Result<Point, PromError> {
    Ok(Point {
        at: timestamp(*t)?,
        value: parse_sample(v)
            .ok_or_else(|| PromError::Malformed(format!("sample value {v:?} is not a number")))?,
    })
}

fn timestamp(secs: f64) -> Result<DateTime<Utc>, PromError> {
    let ms = (secs * 1000.0).round();
    // Within chrono's range; `as` would saturate garbage into a plausible date otherwise.
    if !ms.is_finite() || ms.abs() > 8.0e15 {
        return Err(PromError::Malformed(format!(
            "timestamp {secs} is out of range"
        )));
    }
    Utc.timestamp_millis_opt(ms as i64)
        .single()
        .ok_or_else(|| PromError::Malformed(format!("timestamp {secs} is out of range")))
}
