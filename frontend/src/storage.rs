//! Browser localStorage: the session (so a reload stays signed in) and the theme choice.
//! Storage can be unavailable (private modes, quotas); every helper degrades to "nothing stored".

use serde::{Deserialize, Serialize};

pub const SESSION_KEY: &str = "flightdeck.session";
const THEME_KEY: &str = "flightdeck.theme";

/// What survives a reload. The access token is kept too, so other tabs can adopt a refreshed
/// pair instead of spending the (single-use) refresh token a second time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSession {
    pub access_token: String,
    pub refresh_token: String,
    /// When the access token expires, in milliseconds since the epoch (browser clock).
    pub expires_at_ms: f64,
}

fn local() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load_session() -> Option<StoredSession> {
    parse_session(&local()?.get_item(SESSION_KEY).ok()??)
}

pub fn parse_session(raw: &str) -> Option<StoredSession> {
    serde_json::from_str(raw).ok()
}

pub fn save_session(session: Option<&StoredSession>) {
    let Some(storage) = local() else { return };
    let _ = match session.and_then(|s| serde_json::to_string(s).ok()) {
        Some(json) => storage.set_item(SESSION_KEY, &json),
        None => storage.remove_item(SESSION_KEY),
    };
}

pub fn load_theme() -> Option<String> {
    local()?.get_item(THEME_KEY).ok()?
}

pub fn save_theme(theme: &str) {
    if let Some(storage) = local() {
        let _ = storage.set_item(THEME_KEY, theme);
    }
}
