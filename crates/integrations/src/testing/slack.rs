//! A stand-in for Slack's incoming-webhook endpoint that replays Slack's documented answers,
//! recorded as fixtures under `tests/fixtures/slack/` (status, headers such as `Retry-After`,
//! body), in order, and records what it was sent. Built on [`TestServer`].

use std::{collections::VecDeque, path::PathBuf, sync::Mutex};

use serde::Deserialize;

use super::upstream::{Reply, TestServer};

#[derive(Debug, Clone, Deserialize)]
pub struct SlackFixture {
    pub status: u16,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
}

impl SlackFixture {
    fn reply(self) -> Reply {
        Reply {
            headers: self.headers.into_iter().collect(),
            ..Reply::text(self.status, self.body)
        }
    }
}

/// Reads `tests/fixtures/slack/<name>.json`.
pub fn fixture(name: &str) -> SlackFixture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/slack")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad fixture {}: {e}", path.display()))
}

pub struct SlackStub {
    /// The "incoming webhook URL" to configure.
    pub url: String,
    server: TestServer,
}

impl SlackStub {
    /// Answers with the named fixtures in order, then `ok` forever.
    pub async fn start(names: &[&str]) -> SlackStub {
        let queue: Mutex<VecDeque<SlackFixture>> =
            Mutex::new(names.iter().map(|n| fixture(n)).collect());
        let server = TestServer::start(move |_| {
            queue
                .lock()
                .unwrap()
                .pop_front()
                .map_or_else(|| Reply::text(200, "ok"), SlackFixture::reply)
        })
        .await;
        SlackStub {
            url: format!("{}/services/T000/B000/XXXXXXXX", server.url),
            server,
        }
    }

    /// The JSON bodies received, in order.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.server
            .requests()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null))
            .collect()
    }
}
