//! Log lines for a component's drill-down, from whichever store the deployment has: one
//! [`LogSource`] over OpenSearch/Elasticsearch ([`opensearch`]) and Loki ([`loki`]).
//!
//! Every source answers a [`LogPage`], newest line first, with an opaque `next_cursor` to ask for
//! the page of older lines; a cursor only means something to the source that issued it.

pub mod loki;
pub mod opensearch;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use loki::Loki;
pub use opensearch::OpenSearch;

/// A log line's severity, normalised from the many spellings stores and loggers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl LogLevel {
    /// Reads a level name: `warning`/`WARN`/`warn`, `err`/`error`, `crit`/`critical`/`fatal`/
    /// `panic`/`emerg`/`alert`, `information`/`notice`, … Unknown words are `None`.
    pub fn parse(word: &str) -> Option<LogLevel> {
        Some(match word.trim().to_ascii_lowercase().as_str() {
            "trace" | "trc" => LogLevel::Trace,
            "debug" | "dbg" => LogLevel::Debug,
            "info" | "information" | "informational" | "inf" | "notice" => LogLevel::Info,
            "warn" | "warning" | "wrn" => LogLevel::Warn,
            "error" | "err" | "eror" => LogLevel::Error,
            "fatal" | "crit" | "critical" | "panic" | "emerg" | "emergency" | "alert" => {
                LogLevel::Fatal
            }
            _ => return None,
        })
    }

    /// Finds a level in a raw line: a `level=…` (logfmt) or `"level":"…"` (JSON) field, else the
    /// first word of the line that is an upper-case level name (`ERROR`, `[WARN]`).
    pub fn sniff(line: &str) -> Option<LogLevel> {
        for key in [
            "level=",
            "lvl=",
            "\"level\":\"",
            "\"level\": \"",
            "\"lvl\":\"",
        ] {
            if let Some(i) = line.find(key) {
                let rest = &line[i + key.len()..];
                let word: String = rest
                    .trim_start_matches('"')
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                if let Some(level) = LogLevel::parse(&word) {
                    return Some(level);
                }
            }
        }
        line.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 4 && w.chars().all(|c| c.is_ascii_uppercase()))
            .find_map(LogLevel::parse)
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub at: DateTime<Utc>,
    /// `None` when neither the store nor the line says.
    pub level: Option<LogLevel>,
    pub message: String,
    /// Everything else the store knows about the line: the document's other fields
    /// (OpenSearch) or the stream's labels (Loki).
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// A page of lines, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub lines: Vec<LogEntry>,
    /// Pass back to get the next (older) page; `None` when this page was the last.
    pub next_cursor: Option<String>,
    /// The store answered with only part of the data (failed shards, a timed-out search): the
    /// lines are real, but some may be missing.
    pub partial: bool,
}

/// What can go wrong reading logs.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("invalid log store URL: {0}")]
    InvalidUrl(String),
    /// The store refused the credentials (401) or their permissions (403).
    #[error("the log store refused the credentials (HTTP {status}): {reason}")]
    Unauthorized { status: u16, reason: String },
    /// The store refused or failed the search, with its own error type (`parsing_exception`,
    /// `index_not_found_exception`, Loki's `bad_data`) when it gave one.
    #[error("the log store refused the search (HTTP {status}{}): {reason}", kind.as_deref().map(|k| format!(", {k}")).unwrap_or_default())]
    Query {
        status: u16,
        kind: Option<String>,
        reason: String,
    },
    #[error("the log store did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach the log store: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected answer from the log store: {0}")]
    Malformed(String),
    /// A cursor that this source did not issue.
    #[error("the cursor is not one this log source issued")]
    BadCursor,
}

/// Which lines to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct LogQuery<'a> {
    /// The component's log query in the store's own language: a Lucene `query_string` for
    /// OpenSearch/Elasticsearch (empty matches everything), LogQL for Loki.
    pub query: &'a str,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub limit: usize,
    pub cursor: Option<&'a str>,
}

/// The configured log store.
#[derive(Debug, Clone)]
pub enum LogSource {
    /// OpenSearch or Elasticsearch: same `_search` API.
    Search(OpenSearch),
    Loki(Loki),
}

impl LogSource {
    /// Lines matching `query` between `since` and `until`, newest first, at most `limit`,
    /// continuing after `cursor` when one is given.
    pub async fn search(
        &self,
        query: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<LogPage, LogError> {
        let q = LogQuery {
            query,
            since,
            until,
            limit,
            cursor,
        };
        match self {
            LogSource::Search(s) => s.search(&q).await,
            LogSource::Loki(l) => l.search(&q).await,
        }
    }
}

/// The HTTP client both sources use.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, LogError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(LogError::Transport)
}

pub(crate) fn transport(e: reqwest::Error, timeout: Duration) -> LogError {
    if e.is_timeout() {
        LogError::Timeout(timeout)
    } else {
        LogError::Transport(e)
    }
}

pub(crate) fn truncate(s: &str) -> String {
    const MAX: usize = 512;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
