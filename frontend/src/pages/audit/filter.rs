//! The audit filter: what the form holds, the query it sends, and the same test applied to
//! entries that arrive live (so a filtered view only grows with matching rows).

use flightdeck_model::{AuditEntry, AuditFormat, AuditQuery};

use leptos_router::params::ParamsMap;

use crate::format::parse_local_input;
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

/// `/audit?actor=&action=&target_type=&since=&until=`; the times as the form holds them, in the
/// viewer's local time.
impl UrlFilter for Filter {
    const PAGE: Page = Page::Audit;

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("actor", self.actor.trim().to_owned()),
            ("action", self.action.trim().to_owned()),
            ("target_type", self.target_type.trim().to_owned()),
            ("since", self.since.clone()),
            ("until", self.until.clone()),
        ]
    }

    fn from_query(query: &ParamsMap) -> Self {
        Filter {
            actor: param(query, "actor"),
            action: param(query, "action"),
            target_type: param(query, "target_type"),
            since: param(query, "since"),
            until: param(query, "until"),
        }
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
