//! OpenSearch and Elasticsearch: `POST /{index}/_search`.
//!
//! The request is a `bool` filter — the component's query as a `query_string` and a `range` on
//! `@timestamp` — sorted newest first. Paging uses `search_after`: the cursor carries the last
//! hit's `sort` values, so deep pages cost the same as the first (unlike `from`, which stops at
//! 10,000 hits). Hits with exactly the same timestamp across a page boundary may be skipped or
//! repeated; a point in time would fix that at the price of a second call per search.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{LogEntry, LogError, LogLevel, LogPage, LogQuery, http_client, transport, truncate};
use crate::auth::{Auth, base_url};

/// The time field every query filters and sorts on (the ECS and Beats/Logstash convention).
pub const TIMESTAMP_FIELD: &str = "@timestamp";

/// An OpenSearch or Elasticsearch index (or pattern, `logs-*`, or comma-separated list).
#[derive(Debug, Clone)]
pub struct OpenSearch {
    http: reqwest::Client,
    base: url::Url,
    index: String,
    auth: Auth,
    timeout: Duration,
}

impl OpenSearch {
    /// `auth` is usually [`Auth::Basic`] (OpenSearch security, Elasticsearch native users) or
    /// [`Auth::ApiKey`] (Elasticsearch API keys).
    pub fn new(
        base_url_str: &str,
        index: &str,
        timeout: Duration,
        auth: Auth,
    ) -> Result<Self, LogError> {
        let base = base_url(base_url_str).map_err(LogError::InvalidUrl)?;
        if index.is_empty() || index.contains('/') {
            return Err(LogError::InvalidUrl(format!(
                "{index:?} is not an index name or pattern"
            )));
        }
        Ok(OpenSearch {
            http: http_client(timeout)?,
            base,
            index: index.to_owned(),
            auth,
            timeout,
        })
    }

    pub(crate) async fn search(&self, q: &LogQuery<'_>) -> Result<LogPage, LogError> {
        let search_after = q.cursor.map(decode_cursor).transpose()?;
        let body = request_body(q, search_after);
        let url = self
            .base
            .join(&format!("{}/_search", self.index))
            .map_err(|e| LogError::InvalidUrl(e.to_string()))?;
        let request = self.auth.apply(self.http.post(url).json(&body));
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
        let answer: SearchResponse = serde_json::from_slice(&bytes)
            .map_err(|e| LogError::Malformed(format!("_search answer: {e}")))?;
        page(answer, q.limit)
    }
}

/// The `_search` body for a query, continuing after `search_after` when paging.
pub fn request_body(q: &LogQuery<'_>, search_after: Option<Vec<Value>>) -> Value {
    let mut filter = Vec::with_capacity(2);
    if !q.query.trim().is_empty() {
        filter.push(json!({ "query_string": { "query": q.query } }));
    }
    filter.push(json!({
        "range": { TIMESTAMP_FIELD: {
            "gte": rfc3339(q.since),
            "lte": rfc3339(q.until),
            "format": "strict_date_optional_time",
        } }
    }));
    let mut body = json!({
        "size": q.limit,
        "query": { "bool": { "filter": filter } },
        "sort": [ { TIMESTAMP_FIELD: { "order": "desc" } } ],
        "track_total_hits": false,
    });
    if let Some(after) = search_after {
        body["search_after"] = Value::Array(after);
    }
    body
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The cursor is the last hit's `sort` values as JSON, base64url so it travels in a query string.
pub fn encode_cursor(sort: &[Value]) -> String {
    URL_SAFE_NO_PAD.encode(Value::Array(sort.to_vec()).to_string())
}

fn decode_cursor(cursor: &str) -> Result<Vec<Value>, LogError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| LogError::BadCursor)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Array(values)) if !values.is_empty() => Ok(values),
        _ => Err(LogError::BadCursor),
    }
}

#[derive(Deserialize)]
struct SearchResponse {
    #[serde(default)]
    timed_out: bool,
    #[serde(rename = "_shards")]
    shards: Option<Shards>,
    hits: Hits,
}

#[derive(Deserialize)]
struct Shards {
    #[serde(default)]
    failed: u64,
}

#[derive(Deserialize)]
struct Hits {
    #[serde(default)]
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "_index")]
    index: Option<String>,
    #[serde(rename = "_id")]
    id: Option<String>,
    #[serde(rename = "_source", default)]
    source: Map<String, Value>,
    #[serde(default)]
    sort: Vec<Value>,
}

fn page(answer: SearchResponse, limit: usize) -> Result<LogPage, LogError> {
    let partial = answer.timed_out || answer.shards.is_some_and(|s| s.failed > 0);
    // A full page may have more behind it; a short one is the last.
    let next_cursor = if limit > 0 && answer.hits.hits.len() >= limit {
        answer
            .hits
            .hits
            .last()
            .filter(|h| !h.sort.is_empty())
            .map(|h| encode_cursor(&h.sort))
    } else {
        None
    };
    let lines = answer
        .hits
        .hits
        .into_iter()
        .map(entry)
        .collect::<Result<_, _>>()?;
    Ok(LogPage {
        lines,
        next_cursor,
        partial,
    })
}

fn entry(hit: Hit) -> Result<LogEntry, LogError> {
    let mut source = hit.source;
    let at = source
        .remove(TIMESTAMP_FIELD)
        .and_then(|v| v.as_str().and_then(parse_time))
        // Sorting on a date field answers epoch milliseconds.
        .or_else(|| {
            hit.sort
                .first()
                .and_then(Value::as_i64)
                .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        })
        .ok_or_else(|| {
            LogError::Malformed(format!(
                "hit {:?} has no readable {TIMESTAMP_FIELD}",
                hit.id.as_deref().unwrap_or("?")
            ))
        })?;
    let message = ["message", "msg", "log"]
        .iter()
        .find_map(|k| match source.get(*k) {
            Some(Value::String(s)) => Some((*k, s.clone())),
            _ => None,
        });
    let message = match message {
        Some((key, text)) => {
            source.remove(key);
            text
        }
        None => Value::Object(source.clone()).to_string(),
    };
    let level = level_of(&source).or_else(|| LogLevel::sniff(&message));
    let mut fields: BTreeMap<String, Value> = source.into_iter().collect();
    if let Some(index) = hit.index {
        fields.insert("_index".into(), Value::String(index));
    }
    if let Some(id) = hit.id {
        fields.insert("_id".into(), Value::String(id));
    }
    Ok(LogEntry {
        at,
        level,
        message,
        fields,
    })
}

/// `level`, ECS's `log.level` (dotted or nested) or `severity`.
fn level_of(source: &Map<String, Value>) -> Option<LogLevel> {
    let nested = source
        .get("log")
        .and_then(|l| l.get("level"))
        .and_then(Value::as_str);
    ["level", "log.level", "severity", "loglevel"]
        .iter()
        .filter_map(|k| source.get(*k).and_then(Value::as_str))
        .chain(nested)
        .find_map(LogLevel::parse)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Elasticsearch and OpenSearch errors: `{"error": {"type", "reason", "root_cause": […]},
/// "status"}`; sometimes `error` is a bare string; a security plugin may answer plain text, or
/// nothing at all (OpenSearch Security 2.11 to 2.13 challenged with an empty 401).
fn error_from(status: u16, body: &[u8]) -> LogError {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let error = json.as_ref().and_then(|v| v.get("error"));
    let (kind, reason) = match error {
        Some(Value::Object(e)) => {
            let root = e
                .get("root_cause")
                .and_then(|r| r.get(0))
                .and_then(|r| r.get("reason"))
                .and_then(Value::as_str);
            let top = e.get("reason").and_then(Value::as_str);
            // "all shards failed" says little; the root cause says which query and why.
            let reason = match (top, root) {
                (Some(t), Some(r)) if t != r => format!("{t}: {r}"),
                (Some(t), _) => t.to_owned(),
                (None, Some(r)) => r.to_owned(),
                (None, None) => "no reason given".to_owned(),
            };
            (
                e.get("type").and_then(Value::as_str).map(str::to_owned),
                reason,
            )
        }
        Some(Value::String(s)) => (None, s.clone()),
        _ => match String::from_utf8_lossy(body).trim() {
            "" => (None, "no reason given".to_owned()),
            text => (None, truncate(text)),
        },
    };
    match status {
        401 | 403 => LogError::Unauthorized { status, reason },
        _ => LogError::Query {
            status,
            kind,
            reason,
        },
    }
}
