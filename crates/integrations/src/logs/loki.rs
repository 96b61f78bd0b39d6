//! Grafana Loki: `GET /loki/api/v1/query_range` with `direction=backward` (newest first) and
//! nanosecond Unix timestamps.
//!
//! Loki's `end` is exclusive, so the cursor is the oldest line's timestamp and the next page ends
//! there. Lines sharing that exact nanosecond with the page's last line are skipped by the next
//! page — the price of not keeping state between pages. Not rare: clocks that tick in 100 ns
//! (.NET) and busy writers give several lines one timestamp (the recorded Serilog answer in the
//! tests has five lines on two nanoseconds).
//!
//! A line's fields are its stream's labels, plus, in Loki 3's categorized answer, its structured
//! metadata and parsed labels; its level is the first of `level`, `detected_level`, `severity` and
//! `lvl` among them, else one found in the line.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::{LogEntry, LogError, LogLevel, LogPage, LogQuery, http_client, transport, truncate};
use crate::auth::{Auth, base_url};

/// The labels that carry a line's level, in order of trust: the application's own label, then
/// the one Loki detects itself (3.x), then common alternatives.
const LEVEL_LABELS: [&str; 4] = ["level", "detected_level", "severity", "lvl"];

/// A Loki (or Grafana Cloud Logs) endpoint.
#[derive(Debug, Clone)]
pub struct Loki {
    http: reqwest::Client,
    base: url::Url,
    auth: Auth,
    tenant: Option<String>,
    timeout: Duration,
}

impl Loki {
    pub fn new(base_url_str: &str, timeout: Duration, auth: Auth) -> Result<Self, LogError> {
        Ok(Loki {
            http: http_client(timeout)?,
            base: base_url(base_url_str).map_err(LogError::InvalidUrl)?,
            auth,
            tenant: None,
            timeout,
        })
    }

    /// Sends `X-Scope-OrgID` for a multi-tenant Loki.
    pub fn with_tenant(mut self, tenant: &str) -> Self {
        self.tenant = Some(tenant.to_owned());
        self
    }

    pub(crate) async fn search(&self, q: &LogQuery<'_>) -> Result<LogPage, LogError> {
        let end = match q.cursor {
            Some(c) => c.parse::<i64>().map_err(|_| LogError::BadCursor)?,
            // `end` is exclusive; one nanosecond more makes `until` inclusive.
            None => nanos(q.until)?.saturating_add(1),
        };
        let url = self
            .base
            .join("loki/api/v1/query_range")
            .map_err(|e| LogError::InvalidUrl(e.to_string()))?;
        let params = [
            ("query", q.query.to_owned()),
            ("start", nanos(q.since)?.to_string()),
            ("end", end.to_string()),
            ("limit", q.limit.to_string()),
            ("direction", "backward".to_owned()),
        ];
        let mut request = self.auth.apply(self.http.get(url).query(&params));
        if let Some(tenant) = &self.tenant {
            request = request.header("X-Scope-OrgID", tenant);
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport(e, self.timeout))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport(e, self.timeout))?;
        if !(200..300).contains(&status) {
            return Err(error_from(status, &bytes));
        }
        let answer: Answer = serde_json::from_slice(&bytes)
            .map_err(|e| LogError::Malformed(format!("query_range answer: {e}")))?;
        if answer.status != "success" {
            return Err(error_from(status, &bytes));
        }
        page(answer.data, q.limit)
    }
}

fn nanos(t: DateTime<Utc>) -> Result<i64, LogError> {
    t.timestamp_nanos_opt()
        .ok_or_else(|| LogError::Malformed(format!("{t} is outside Loki's nanosecond range")))
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    data: Data,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    #[serde(default)]
    result: Value,
}

#[derive(Deserialize)]
struct Stream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    /// `[ns, line]`; Loki 3 asked with `X-Loki-Response-Encoding-Flags: categorize-labels`
    /// (Grafana asks so; this adapter does not) adds a third value,
    /// `{"structuredMetadata": {…}, "parsed": {…}}`, and keeps only indexed labels in `stream`.
    #[serde(default)]
    values: Vec<Vec<Value>>,
}

fn page(data: Data, limit: usize) -> Result<LogPage, LogError> {
    if data.result_type != "streams" {
        return Err(LogError::Malformed(format!(
            "the log query answered a {} (a LogQL metric query); it must select log streams",
            data.result_type
        )));
    }
    let streams: Vec<Stream> = serde_json::from_value(data.result)
        .map_err(|e| LogError::Malformed(format!("data.result: {e}")))?;
    let mut lines: Vec<(i64, LogEntry)> = Vec::new();
    for stream in streams {
        for value in &stream.values {
            lines.push(entry(&stream.stream, value)?);
        }
    }
    // Each stream is newest first, but streams come in any order.
    lines.sort_by_key(|l| std::cmp::Reverse(l.0));
    lines.truncate(limit);
    let next_cursor = (limit > 0 && lines.len() >= limit)
        .then(|| lines.last().map(|(ns, _)| ns.to_string()))
        .flatten();
    Ok(LogPage {
        lines: lines.into_iter().map(|(_, e)| e).collect(),
        next_cursor,
        partial: false,
    })
}

fn entry(labels: &BTreeMap<String, String>, value: &[Value]) -> Result<(i64, LogEntry), LogError> {
    let (ns, line) = match value {
        [Value::String(ns), Value::String(line), ..] => (ns, line),
        _ => {
            return Err(LogError::Malformed(format!(
                "a stream value is not [\"<ns>\", \"<line>\"]: {}",
                truncate(&Value::Array(value.to_vec()).to_string())
            )));
        }
    };
    let ns: i64 = ns
        .parse()
        .map_err(|_| LogError::Malformed(format!("timestamp {ns:?} is not nanoseconds")))?;
    let mut fields: BTreeMap<String, Value> = labels
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if let Some(categories) = value.get(2).and_then(Value::as_object) {
        // Each category's labels (Loki 3's `detected_level` among them) become fields of their
        // own, as they would be stream labels without `categorize-labels`.
        for (key, category) in categories {
            match (key.as_str(), category) {
                ("structuredMetadata" | "parsed", Value::Object(labels)) => {
                    fields.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                _ => {
                    fields.insert(key.clone(), category.clone());
                }
            }
        }
    }
    let level = LEVEL_LABELS
        .iter()
        .filter_map(|k| fields.get(*k).and_then(Value::as_str))
        .find_map(LogLevel::parse)
        .or_else(|| LogLevel::sniff(line));
    Ok((
        ns,
        LogEntry {
            at: Utc.timestamp_nanos(ns),
            level,
            message: line.clone(),
            fields,
        },
    ))
}

/// Loki answers errors as plain text (`parse error at line 1, col 8: …`) or, behind some
/// gateways and in newer versions, as `{"status": "error", "errorType", "error"}`.
fn error_from(status: u16, body: &[u8]) -> LogError {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let reason = field("error")
        .or_else(|| field("message"))
        .unwrap_or_else(|| truncate(String::from_utf8_lossy(body).trim()));
    match status {
        401 | 403 => LogError::Unauthorized { status, reason },
        _ => LogError::Query {
            status,
            kind: field("errorType"),
            reason,
        },
    }
}
