//! The audit filter: what the form holds, the query it sends, and the same test applied to
//! entries that arrive live (so a filtered view only grows with matching rows).

use chrono::{DateTime, SecondsFormat, Utc};
use flightdeck_model::{AuditEntry, AuditFormat, AuditQuery};

use leptos_router::params::ParamsMap;

use crate::format::{local_input, parse_local_input};
use crate::routes::Page;
use crate::url_filter::{UrlFilter, param};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub actor: String,
    /// Exact action, or a prefix ending in `.` (the server's rule).
    pub action: String,
    pub target_type: String,
    /// `<input type="datetime-local">` values, local time.
    pub since: String,
    pub until: String,
}

pub const PAGE_SIZE: u32 = 50;

/// `/audit?actor=&action=&target_type=&since=&until=`. The times go in UTC (RFC 3339, as the API
/// takes them), so a shared link means the same window to a colleague in another time zone;
/// the form shows them in the viewer's local time.
impl UrlFilter for Filter {
    const PAGE: Page = Page::Audit;

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("actor", self.actor.trim().to_owned()),
            ("action", self.action.trim().to_owned()),
            ("target_type", self.target_type.trim().to_owned()),
            ("since", url_time(&self.since)),
            ("until", url_time(&self.until)),
        ]
    }

    fn from_query(query: &ParamsMap) -> Self {
        Filter {
            actor: param(query, "actor"),
            action: param(query, "action"),
            target_type: param(query, "target_type"),
            since: input_time(param(query, "since")),
            until: input_time(param(query, "until")),
        }
    }
}

/// A form time (local) as the URL carries it: UTC, to the second. Left as typed when it is not
/// a time, so the form keeps showing what the URL says.
fn url_time(input: &str) -> String {
    parse_local_input(input)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| input.trim().to_owned())
}

/// A URL time as the form shows it: RFC 3339 in local time; anything else (a link from before
/// times went in UTC carries local form values) as it is.
fn input_time(value: String) -> String {
    match DateTime::parse_from_rfc3339(&value) {
        Ok(t) => local_input(&t.with_timezone(&Utc)),
        Err(_) => value,
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        *self == Filter::default()
    }

    pub fn query(&self, cursor: Option<String>) -> AuditQuery {
        AuditQuery {
            actor: non_empty(&self.actor),
            action: non_empty(&self.action),
            target_type: non_empty(&self.target_type),
            since: parse_local_input(&self.since),
            until: parse_local_input(&self.until),
            limit: Some(PAGE_SIZE),
            cursor,
            ..Default::default()
        }
    }

    /// Every matching entry (no paging), for an export.
    pub fn export(&self, format: AuditFormat) -> AuditQuery {
        AuditQuery {
            format: Some(format),
            limit: None,
            ..self.query(None)
        }
    }

    pub fn matches(&self, entry: &AuditEntry) -> bool {
        let q = self.query(None);
        q.actor.is_none_or(|a| entry.actor == a)
            && q.action.is_none_or(|a| {
                if a.ends_with('.') {
                    entry.action.starts_with(&a)
                } else {
                    entry.action == a
                }
            })
            && q.target_type.is_none_or(|t| entry.target_type == t)
            && q.since.is_none_or(|s| entry.at >= s)
            && q.until.is_none_or(|u| entry.at < u)
    }
}
