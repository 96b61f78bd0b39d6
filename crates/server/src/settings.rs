//! Configuration: defaults, then an optional TOML file, then `FLIGHTDECK_*` (and the
//! conventional `DATABASE_URL`, `REDIS_URL`, …) environment variables, which win.

use std::{collections::BTreeMap, path::PathBuf};

use serde::{Deserialize, Serialize};

/// A secret value: usable, but never printed by `Debug` or serialised in clear by accident.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when stderr is not a terminal, pretty when it is.
    #[default]
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// address:port to listen on; port 0 picks a free one.
    pub listen: String,
    /// `sqlite://path` or `postgres://…`.
    pub database_url: Secret,
    pub database_max_connections: u32,
    /// Enables cross-replica live fan-out and shared rate limits.
    pub redis_url: Option<Secret>,
    /// JWT signing key; generated and stored in the database on first run when unset.
    pub jwt_secret: Option<Secret>,
    pub admin_user: String,
    /// Bootstrap admin password on an empty database; generated and printed once when unset.
    pub admin_password: Option<Secret>,
    /// The URL pipelines use to reach this server (deployment callback URLs); default: the
    /// listen address.
    pub public_url: Option<String>,
    /// Serve the built SPA from here; default `frontend/dist` when it exists.
    pub web_dir: Option<PathBuf>,
    /// Origins allowed to call the API from a separately hosted SPA.
    pub cors_origins: Vec<String>,
    /// Per-source webhook secrets: github, gitlab, argocd, generic, alertmanager.
    pub webhook_secrets: BTreeMap<String, Secret>,
    pub prometheus_url: Option<String>,
    /// How often the SLO poller evaluates every SLO (`FLIGHTDECK_SLO_POLL_SECS`), when
    /// `prometheus_url` is set.
    pub slo_poll_secs: u64,
    /// How often statuses that change with time alone (maintenance windows opening or closing,
    /// SLOs going stale) are recomputed.
    pub status_clock_secs: u64,
    /// Unacknowledged critical alerts escalate by themselves after this many seconds
    /// (`FLIGHTDECK_ALERT_ESCALATE_AFTER_SECS`); 0 turns auto-escalation off.
    pub alert_escalate_after_secs: u64,
    /// Whom auto-escalation escalates to (`FLIGHTDECK_ALERT_ESCALATION_TARGET`).
    pub alert_escalation_target: String,
    pub logs_url: Option<String>,
    pub logs_kind: Option<String>,
    /// The index or index pattern searched on OpenSearch/Elasticsearch (`LOGS_INDEX`).
    pub logs_index: Option<String>,
    /// Basic auth for the log store (`LOGS_USERNAME`, `LOGS_PASSWORD`).
    pub logs_username: Option<String>,
    pub logs_password: Option<Secret>,
    /// An Elasticsearch API key, base64 `id:key` as Elasticsearch prints it (`LOGS_API_KEY`).
    pub logs_api_key: Option<Secret>,
    pub log_format: LogFormat,
    pub auth: AuthSettings,
    pub live: LiveSettings,
    /// The notifier: how often it looks for work, and how it retries (`[notify]`).
    pub notify: NotifySettings,
    /// Services, environments and executors declared in the config file, applied at start.
    pub catalog: CatalogSettings,
    /// Apply webhook deliveries in this process (`FLIGHTDECK_RUN_WORKERS=false` leaves it to
    /// `flightdeck worker` processes).
    pub run_workers: bool,
    /// Largest accepted JSON body, in bytes.
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u32,
    /// Login attempts allowed per account, and per client IP, in each window.
    pub login_attempts_per_account: u32,
    pub login_attempts_per_ip: u32,
    pub login_window_secs: u32,
    /// A spent refresh token presented again within this many seconds is taken for two tabs
    /// racing (refused, session kept); later, for theft (session ended).
    pub refresh_reuse_grace_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    /// How long events stay replayable after a disconnect.
    pub retention_hours: u32,
    /// How often each replica also reads new events from the database, so a Redis outage only
    /// delays cross-replica events instead of losing them.
    pub db_poll_secs: u32,
    /// Events a client may fall behind by before it is disconnected.
    pub client_buffer: usize,
    pub heartbeat_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// How often the notifier reads new events and sends due retries, in milliseconds; it is
    /// also woken by this replica's own live events.
    pub poll_ms: u64,
    /// Attempts per delivery before it is `failed` (`FLIGHTDECK_NOTIFY_MAX_ATTEMPTS`).
    pub max_attempts: u32,
    /// The first retry's wait; each next one is four times longer
    /// (`FLIGHTDECK_NOTIFY_BACKOFF_MS`).
    pub backoff_base_ms: u64,
    /// The longest wait between attempts.
    pub backoff_cap_secs: u64,
    /// Bounds each attempt (an HTTP request, an SMTP session).
    pub timeout_secs: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            poll_ms: 1000,
            max_attempts: 5,
            backoff_base_ms: 1000,
            backoff_cap_secs: 300,
            timeout_secs: 10,
        }
    }
}

/// The catalog as code: created when missing and updated to match at every start, so a
/// config file under version control can own it. Entries the file does not name are left alone.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogSettings {
    pub services: Vec<flightdeck_model::CreateService>,
    pub environments: Vec<EnvironmentSpec>,
    /// Per-service executor overrides.
    pub executors: Vec<TargetExecutorSpec>,
    /// Components of the health grid (`[[catalog.components]]`), applied after the services
    /// they link to.
    pub components: Vec<flightdeck_model::CreateComponent>,
    /// SLOs on those components (`[[catalog.slos]]`), keyed by component and name.
    pub slos: Vec<SloSpec>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// The component's slug.
    pub component: String,
    pub name: String,
    /// E.g. `0.999`.
    pub objective: f64,
    /// The rolling window in seconds (30 days = 2592000).
    pub window_secs: u64,
    /// `{ kind = "ratio", good = "…", total = "…" }` or
    /// `{ kind = "threshold", query = "…", comparison = "le", threshold = 0.3 }`.
    pub sli: flightdeck_model::SloSli,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct EnvironmentSpec {
    pub slug: String,
    pub name: String,
    pub rank: i32,
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub freeze_windows: Vec<flightdeck_model::FreezeWindow>,
    /// How deployments to it happen; absent: `record`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executor: Option<flightdeck_model::ExecutorConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TargetExecutorSpec {
    pub environment: String,
    pub service: String,
    pub executor: flightdeck_model::ExecutorConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            database_url: Secret::new("sqlite://data/flightdeck.db"),
            database_max_connections: 10,
            redis_url: None,
            jwt_secret: None,
            admin_user: "admin".into(),
            admin_password: None,
            public_url: None,
            web_dir: None,
            cors_origins: Vec::new(),
            webhook_secrets: BTreeMap::new(),
            prometheus_url: None,
            slo_poll_secs: 30,
            status_clock_secs: 15,
            alert_escalate_after_secs: 900,
            alert_escalation_target: "on-call".into(),
            logs_url: None,
            logs_kind: None,
            logs_index: None,
            logs_username: None,
            logs_password: None,
            logs_api_key: None,
            log_format: LogFormat::Auto,
            auth: AuthSettings::default(),
            live: LiveSettings::default(),
            notify: NotifySettings::default(),
            catalog: CatalogSettings::default(),
            run_workers: true,
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            login_attempts_per_account: 10,
            login_attempts_per_ip: 50,
            login_window_secs: 300,
            refresh_reuse_grace_secs: 10,
        }
    }
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            retention_hours: 24,
            db_poll_secs: 2,
            client_buffer: 1024,
            heartbeat_secs: 20,
        }
    }
}

/// The webhook sources whose secrets come from `FLIGHTDECK_WEBHOOK_SECRET_<SOURCE>`.
pub const WEBHOOK_SOURCES: [&str; 6] = [
    "github",
    "gitlab",
    "argocd",
    "generic",
    "alertmanager",
    "alerts",
];

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid value for {var}: {message}")]
    Env { var: String, message: String },
}

impl Settings {
    /// Defaults, then `file` when given, then the process environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, SettingsError> {
        let mut settings = match file {
            Some(path) => Self::from_toml_file(path)?,
            None => Settings::default(),
        };
        settings.apply_env(|k| std::env::var(k).ok())?;
        Ok(settings)
    }

    pub fn from_toml_file(path: &std::path::Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| SettingsError::Parse {
            path: path.into(),
            source,
        })
    }

    /// Overlays environment variables read through `var` (a parameter so tests need not touch
    /// the real environment). Empty values count as unset.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("FLIGHTDECK_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("DATABASE_URL") {
            self.database_url = Secret::new(v);
        }
        if let Some(v) = get("REDIS_URL") {
            self.redis_url = Some(Secret::new(v));
        }
        if let Some(v) = get("FLIGHTDECK_JWT_SECRET") {
            self.jwt_secret = Some(Secret::new(v));
        }
        if let Some(v) = get("FLIGHTDECK_ADMIN_USER") {
            self.admin_user = v;
        }
        if let Some(v) = get("FLIGHTDECK_ADMIN_PASSWORD") {
            self.admin_password = Some(Secret::new(v));
        }
        if let Some(v) = get("FLIGHTDECK_PUBLIC_URL") {
            self.public_url = Some(v.trim_end_matches('/').to_owned());
        }
        if let Some(v) = get("FLIGHTDECK_NOTIFY_MAX_ATTEMPTS") {
            self.notify.max_attempts = match v.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(SettingsError::Env {
                        var: "FLIGHTDECK_NOTIFY_MAX_ATTEMPTS".into(),
                        message: "expected a whole number, at least 1".into(),
                    });
                }
            };
        }
        if let Some(v) = get("FLIGHTDECK_NOTIFY_BACKOFF_MS") {
            self.notify.backoff_base_ms = v.parse::<u64>().map_err(|_| SettingsError::Env {
                var: "FLIGHTDECK_NOTIFY_BACKOFF_MS".into(),
                message: "expected a whole number of milliseconds".into(),
            })?;
        }
        if let Some(v) = get("FLIGHTDECK_RUN_WORKERS") {
            self.run_workers = match v.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(SettingsError::Env {
                        var: "FLIGHTDECK_RUN_WORKERS".into(),
                        message: "expected true or false".into(),
                    });
                }
            };
        }
        if let Some(v) = get("FLIGHTDECK_WEB_DIR") {
            self.web_dir = Some(v.into());
        }
        if let Some(v) = get("FLIGHTDECK_CORS_ORIGINS") {
            self.cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        for source in WEBHOOK_SOURCES {
            let key = format!("FLIGHTDECK_WEBHOOK_SECRET_{}", source.to_ascii_uppercase());
            if let Some(v) = get(&key) {
                self.webhook_secrets
                    .insert(source.to_owned(), Secret::new(v));
            }
        }
        if let Some(v) = get("PROMETHEUS_URL") {
            self.prometheus_url = Some(v);
        }
        if let Some(v) = get("FLIGHTDECK_SLO_POLL_SECS") {
            self.slo_poll_secs = match v.parse::<u64>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(SettingsError::Env {
                        var: "FLIGHTDECK_SLO_POLL_SECS".into(),
                        message: "expected a whole number of seconds, at least 1".into(),
                    });
                }
            };
        }
        if let Some(v) = get("FLIGHTDECK_ALERT_ESCALATE_AFTER_SECS") {
            self.alert_escalate_after_secs = v.parse::<u64>().map_err(|_| SettingsError::Env {
                var: "FLIGHTDECK_ALERT_ESCALATE_AFTER_SECS".into(),
                message: "expected a whole number of seconds (0 turns it off)".into(),
            })?;
        }
        if let Some(v) = get("FLIGHTDECK_ALERT_ESCALATION_TARGET") {
            self.alert_escalation_target = v.trim().to_owned();
        }
        if let Some(v) = get("LOGS_URL") {
            self.logs_url = Some(v);
        }
        if let Some(v) = get("LOGS_KIND") {
            if !matches!(v.as_str(), "opensearch" | "elasticsearch" | "loki") {
                return Err(SettingsError::Env {
                    var: "LOGS_KIND".into(),
                    message: "expected opensearch, elasticsearch or loki".into(),
                });
            }
            self.logs_kind = Some(v);
        }
        if let Some(v) = get("LOGS_INDEX") {
            self.logs_index = Some(v);
        }
        if let Some(v) = get("LOGS_USERNAME") {
            self.logs_username = Some(v);
        }
        if let Some(v) = get("LOGS_PASSWORD") {
            self.logs_password = Some(Secret::new(v));
        }
        if let Some(v) = get("LOGS_API_KEY") {
            self.logs_api_key = Some(Secret::new(v));
        }
        if let Some(v) = get("FLIGHTDECK_LOG_FORMAT") {
            self.log_format = match v.as_str() {
                "json" => LogFormat::Json,
                "pretty" => LogFormat::Pretty,
                "auto" => LogFormat::Auto,
                _ => {
                    return Err(SettingsError::Env {
                        var: "FLIGHTDECK_LOG_FORMAT".into(),
                        message: "expected json, pretty or auto".into(),
                    });
                }
            };
        }
        Ok(())
    }

    /// The default configuration as a commented-out-free TOML document (`flightdeck config`).
    pub fn default_toml() -> String {
        toml::to_string_pretty(&Settings::default()).expect("default settings serialise")
    }

    /// The SPA folder to serve: the configured one, else `frontend/dist` when present.
    pub fn resolved_web_dir(&self) -> Option<PathBuf> {
        match &self.web_dir {
            Some(dir) => Some(dir.clone()),
            None => {
                let dir = PathBuf::from("frontend/dist");
                dir.join("index.html").exists().then_some(dir)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn environment_wins_over_the_file() {
        let mut s: Settings = toml::from_str(
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite://file.db\"\nadmin_user = \"root\"",
        )
        .unwrap();
        s.apply_env(env(&[
            ("FLIGHTDECK_LISTEN", "127.0.0.1:7000"),
            ("DATABASE_URL", ""),
        ]))
        .unwrap();
        assert_eq!(s.listen, "127.0.0.1:7000");
        assert_eq!(
            s.database_url.expose(),
            "sqlite://file.db",
            "empty env values are ignored"
        );
        assert_eq!(s.admin_user, "root");
    }

    #[test]
    fn webhook_secrets_and_cors_origins_come_from_their_variables() {
        let mut s = Settings::default();
        s.apply_env(env(&[
            ("FLIGHTDECK_WEBHOOK_SECRET_GITHUB", "gh-secret"),
            (
                "FLIGHTDECK_CORS_ORIGINS",
                "https://a.example, https://b.example",
            ),
        ]))
        .unwrap();
        assert_eq!(s.webhook_secrets["github"].expose(), "gh-secret");
        assert!(!s.webhook_secrets.contains_key("gitlab"));
        assert_eq!(s.cors_origins, ["https://a.example", "https://b.example"]);
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let mut s = Settings::default();
        s.apply_env(env(&[
            ("FLIGHTDECK_JWT_SECRET", "super-secret-key"),
            ("FLIGHTDECK_ADMIN_PASSWORD", "hunter2hunter2"),
            ("DATABASE_URL", "postgres://u:dbpass@h/db"),
        ]))
        .unwrap();
        let debug = format!("{s:?}");
        for secret in ["super-secret-key", "hunter2hunter2", "dbpass"] {
            assert!(!debug.contains(secret), "{secret} leaked in {debug}");
        }
    }

    #[test]
    fn the_printed_default_config_parses_back_to_the_defaults() {
        let parsed: Settings = toml::from_str(&Settings::default_toml()).unwrap();
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        assert!(toml::from_str::<Settings>("listn = \"x\"").is_err());
        let mut s = Settings::default();
        assert!(s.apply_env(env(&[("LOGS_KIND", "splunk")])).is_err());
    }

    #[test]
    fn auto_escalation_comes_from_its_variables_and_zero_turns_it_off() {
        let mut s = Settings::default();
        assert_eq!(s.alert_escalate_after_secs, 900);
        assert_eq!(s.alert_escalation_target, "on-call");
        s.apply_env(env(&[
            ("FLIGHTDECK_ALERT_ESCALATE_AFTER_SECS", "0"),
            ("FLIGHTDECK_ALERT_ESCALATION_TARGET", "#sre-pager"),
        ]))
        .unwrap();
        assert_eq!(s.alert_escalate_after_secs, 0);
        assert_eq!(s.alert_escalation_target, "#sre-pager");
        assert!(
            s.apply_env(env(&[("FLIGHTDECK_ALERT_ESCALATE_AFTER_SECS", "15m")]))
                .is_err()
        );
    }

    #[test]
    fn the_slo_poll_interval_and_the_log_store_come_from_their_variables() {
        let mut s = Settings::default();
        assert_eq!(s.slo_poll_secs, 30);
        s.apply_env(env(&[
            ("FLIGHTDECK_SLO_POLL_SECS", "5"),
            ("LOGS_URL", "https://search.internal:9200"),
            ("LOGS_KIND", "elasticsearch"),
            ("LOGS_INDEX", "logs-*"),
            ("LOGS_USERNAME", "reader"),
            ("LOGS_PASSWORD", "hunter2"),
            ("LOGS_API_KEY", "aWQ6a2V5"),
        ]))
        .unwrap();
        assert_eq!(s.slo_poll_secs, 5);
        assert_eq!(s.logs_index.as_deref(), Some("logs-*"));
        assert_eq!(s.logs_username.as_deref(), Some("reader"));
        assert_eq!(
            s.logs_password.as_ref().map(Secret::expose),
            Some("hunter2")
        );
        assert_eq!(
            s.logs_api_key.as_ref().map(Secret::expose),
            Some("aWQ6a2V5")
        );
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(
            s.apply_env(env(&[("FLIGHTDECK_SLO_POLL_SECS", "0")]))
                .is_err()
        );
        assert!(
            s.apply_env(env(&[("FLIGHTDECK_SLO_POLL_SECS", "soon")]))
                .is_err()
        );
    }
}
