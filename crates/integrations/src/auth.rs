//! How an adapter authenticates. Secrets are redacted from `Debug`, so a client or a settings
//! struct can be logged whole.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Credentials sent with every request of one adapter.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Bearer <token>` (Prometheus behind an auth proxy, Grafana Cloud, …).
    Bearer(String),
    /// `Authorization: Basic base64(username:password)`.
    Basic { username: String, password: String },
    /// `Authorization: ApiKey <encoded>`, Elasticsearch's API keys. `encoded` is what the
    /// create-API-key call answers as `encoded`, i.e. `base64(id:api_key)`; see
    /// [`Auth::api_key_from_parts`] when only the id and key are at hand.
    ApiKey(String),
}

impl Auth {
    /// An Elasticsearch API key from its `id` and `api_key` halves.
    pub fn api_key_from_parts(id: &str, api_key: &str) -> Auth {
        Auth::ApiKey(STANDARD.encode(format!("{id}:{api_key}")))
    }

    /// The `Authorization` header value, if any.
    pub fn header_value(&self) -> Option<String> {
        match self {
            Auth::None => None,
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
            Auth::Basic { username, password } => Some(format!(
                "Basic {}",
                STANDARD.encode(format!("{username}:{password}"))
            )),
            Auth::ApiKey(encoded) => Some(format!("ApiKey {encoded}")),
        }
    }

    pub(crate) fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.header_value() {
            Some(value) => request.header(reqwest::header::AUTHORIZATION, value),
            None => request,
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Auth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Auth::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
        }
    }
}

/// Parses a base URL and makes sure it ends with `/`, so that joining `api/v1/query` keeps any
/// path prefix (`https://example.com/prometheus/`).
pub(crate) fn base_url(raw: &str) -> Result<url::Url, String> {
    let mut url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{raw:?} is not an http(s) URL"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}
