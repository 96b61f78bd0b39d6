//! A stand-in for Slack's incoming-webhook endpoint that replays Slack's documented answers,
//! recorded as fixtures under `tests/fixtures/slack/` (status, headers such as `Retry-After`,
//! body), in order, and records what it was sent.

use std::{
    collections::VecDeque,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use serde::Deserialize;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

#[derive(Debug, Clone, Deserialize)]
pub struct SlackFixture {
    pub status: u16,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
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
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl SlackStub {
    /// Answers with the named fixtures in order, then `ok` forever.
    pub async fn start(names: &[&str]) -> SlackStub {
        let queue: VecDeque<SlackFixture> = names.iter().map(|n| fixture(n)).collect();
        let queue = Arc::new(Mutex::new(queue));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let log = bodies.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (queue, log) = (queue.clone(), log.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, queue, log).await;
                });
            }
        });
        SlackStub {
            url: format!("http://127.0.0.1:{port}/services/T000/B000/XXXXXXXX"),
            bodies,
        }
    }

    /// The JSON bodies received, in order.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    queue: Arc<Mutex<VecDeque<SlackFixture>>>,
    log: Arc<Mutex<Vec<serde_json::Value>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    log.lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null));
    let reply = queue.lock().unwrap().pop_front().unwrap_or(SlackFixture {
        status: 200,
        headers: Default::default(),
        body: "ok".into(),
    });
    let mut out = format!("HTTP/1.1 {} X\r\n", reply.status);
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n{}",
        reply.body.len(),
        reply.body
    ));
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}
