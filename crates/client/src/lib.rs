//! A typed client for Flightdeck's REST API. The CLI, the integration tests and the SPA all use
//! it, so every endpoint is exercised through the same code that outside callers would write.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flightdeck_client::ClientError> {
//! let mut client = flightdeck_client::Client::new("http://127.0.0.1:8080")?;
//! client.login("admin", "secret").await?;
//! let me = client.me().await?;
//! println!("{} ({})", me.user.username, me.role);
//! # Ok(()) }
//! ```

use flightdeck_model::*;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::{Serialize, de::DeserializeOwned};

mod notify;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a problem+json body (boxed: it is large, errors are rare).
    #[error("{0}")]
    Api(Box<Problem>),
    /// The server answered an error status without a problem body (a proxy, most likely).
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("invalid base URL: {0}")]
    Url(#[from] url::ParseError),
}

impl ClientError {
    /// The HTTP status of an answered request.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api(p) => Some(p.status),
            ClientError::Http { status, .. } => Some(*status),
            ClientError::Transport(e) => e.status().map(|s| s.as_u16()),
            ClientError::Url(_) => None,
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Api(p) => Some(p),
            _ => None,
        }
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;

/// A client bound to one server. Cloning is cheap (the connection pool is shared); each clone
/// carries its own bearer token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: url::Url,
    token: Option<String>,
}

impl Client {
    /// `base` is the server root, e.g. `http://127.0.0.1:8080` (the SPA passes its own origin).
    pub fn new(base: &str) -> Result<Self> {
        let mut base = url::Url::parse(base)?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Client {
            http: reqwest::Client::new(),
            base,
            token: None,
        })
    }

    /// The same server, authenticating with `token` (an access token or an API token).
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base_url(&self) -> &url::Url {
        &self.base
    }

    /// An absolute URL for a path relative to the server root (`api/v1/me`).
    pub fn url(&self, path: &str) -> Result<url::Url> {
        Ok(self.base.join(path.trim_start_matches('/'))?)
    }

    /// A request with the bearer token set, for endpoints this crate does not wrap (or for tests
    /// that send deliberately malformed input).
    pub fn request(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let mut req = self.http.request(method, self.url(path)?);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        Ok(req)
    }

    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T> {
        let resp = check(req.send().await?).await?;
        Ok(resp.json().await?)
    }

    async fn send_empty(&self, req: RequestBuilder) -> Result<()> {
        check(req.send().await?).await?;
        Ok(())
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &impl Serialize) -> Result<T> {
        self.send(self.request(Method::GET, path)?.query(query))
            .await
    }

    async fn post<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T> {
        self.send(self.request(Method::POST, path)?.json(body))
            .await
    }

    // --- sessions ---

    /// Logs in and keeps the access token for the calls that follow.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<TokenResponse> {
        let body = LoginRequest {
            username: username.into(),
            password: password.into(),
        };
        let tokens: TokenResponse = self.post("api/v1/auth/login", &body).await?;
        self.token = Some(tokens.access_token.clone());
        Ok(tokens)
    }

    /// Spends a refresh token for a new pair and keeps the new access token.
    pub async fn refresh(&mut self, refresh_token: &str) -> Result<TokenResponse> {
        let body = RefreshRequest {
            refresh_token: refresh_token.into(),
        };
        let tokens: TokenResponse = self.post("api/v1/auth/refresh", &body).await?;
        self.token = Some(tokens.access_token.clone());
        Ok(tokens)
    }

    pub async fn logout(&self, refresh_token: Option<&str>) -> Result<()> {
        let body = LogoutRequest {
            refresh_token: refresh_token.map(str::to_owned),
        };
        self.send_empty(
            self.request(Method::POST, "api/v1/auth/logout")?
                .json(&body),
        )
        .await
    }

    pub async fn me(&self) -> Result<Me> {
        self.get("api/v1/me", &()).await
    }

    pub async fn info(&self) -> Result<ServerInfo> {
        self.get("api/v1/info", &()).await
    }

    // --- API tokens ---

    pub async fn create_token(&self, body: &CreateApiToken) -> Result<CreatedApiToken> {
        self.post("api/v1/tokens", body).await
    }

    /// The caller's tokens; admins may pass `all = true` for everyone's.
    pub async fn list_tokens(&self, all: bool, page: &PageParams) -> Result<Page<ApiToken>> {
        #[derive(Serialize)]
        struct Q<'a> {
            all: bool,
            #[serde(flatten)]
            page: &'a PageParams,
        }
        self.get("api/v1/tokens", &Q { all, page }).await
    }

    pub async fn revoke_token(&self, id: Id) -> Result<ApiToken> {
        self.send(self.request(Method::DELETE, &format!("api/v1/tokens/{id}"))?)
            .await
    }

    // --- users ---

    pub async fn list_users(&self, page: &PageParams) -> Result<Page<User>> {
        self.get("api/v1/users", page).await
    }

    pub async fn create_user(&self, body: &CreateUser) -> Result<User> {
        self.post("api/v1/users", body).await
    }

    pub async fn get_user(&self, id: Id) -> Result<User> {
        self.get(&format!("api/v1/users/{id}"), &()).await
    }

    pub async fn update_user(&self, id: Id, body: &UpdateUser) -> Result<User> {
        self.send(
            self.request(Method::PATCH, &format!("api/v1/users/{id}"))?
                .json(body),
        )
        .await
    }

    // --- audit ---

    pub async fn list_audit(&self, query: &AuditQuery) -> Result<Page<AuditEntry>> {
        self.get("api/v1/audit", query).await
    }

    /// Every matching entry as CSV or JSON lines (`query.format` decides), as text.
    pub async fn export_audit(&self, query: &AuditQuery) -> Result<String> {
        let resp = self
            .request(Method::GET, "api/v1/audit")?
            .query(query)
            .send()
            .await?;
        Ok(check(resp).await?.text().await?)
    }

    // --- catalog ---

    pub async fn list_services(&self) -> Result<Page<Service>> {
        self.get("api/v1/services", &()).await
    }

    pub async fn create_service(&self, body: &CreateService) -> Result<Service> {
        self.post("api/v1/services", body).await
    }

    pub async fn update_service(&self, slug: &str, body: &UpdateService) -> Result<Service> {
        self.send(
            self.request(Method::PATCH, &format!("api/v1/services/{slug}"))?
                .json(body),
        )
        .await
    }

    pub async fn list_environments(&self) -> Result<Page<Environment>> {
        self.get("api/v1/environments", &()).await
    }

    pub async fn create_environment(&self, body: &CreateEnvironment) -> Result<Environment> {
        self.post("api/v1/environments", body).await
    }

    pub async fn update_environment(
        &self,
        slug: &str,
        body: &UpdateEnvironment,
    ) -> Result<Environment> {
        self.send(
            self.request(Method::PATCH, &format!("api/v1/environments/{slug}"))?
                .json(body),
        )
        .await
    }

    pub async fn lock_environment(
        &self,
        slug: &str,
        body: &LockEnvironment,
    ) -> Result<Environment> {
        self.post(&format!("api/v1/environments/{slug}/lock"), body)
            .await
    }

    pub async fn unlock_environment(&self, slug: &str) -> Result<Environment> {
        self.send(self.request(Method::POST, &format!("api/v1/environments/{slug}/unlock"))?)
            .await
    }

    pub async fn environment_status(&self, slug: &str) -> Result<EnvironmentStatus> {
        self.get(&format!("api/v1/environments/{slug}/status"), &())
            .await
    }

    /// Sets the executor of an environment, or of one service in it.
    pub async fn set_executor(
        &self,
        env: &str,
        service: Option<&str>,
        config: &ExecutorConfig,
    ) -> Result<ExecutorConfig> {
        let path = match service {
            Some(s) => format!("api/v1/environments/{env}/services/{s}/executor"),
            None => format!("api/v1/environments/{env}/executor"),
        };
        self.send(self.request(Method::PUT, &path)?.json(config))
            .await
    }

    // --- deployments ---

    pub async fn deploy(&self, body: &CreateDeployment) -> Result<Deployment> {
        self.post("api/v1/deployments", body).await
    }

    pub async fn rollback(&self, body: &CreateRollback) -> Result<Deployment> {
        self.post("api/v1/rollbacks", body).await
    }

    pub async fn preview_rollback(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<RollbackPreview> {
        self.get(
            "api/v1/rollbacks/preview",
            &[("service", service), ("environment", environment)],
        )
        .await
    }

    /// `query` holds the filters as `(name, value)` pairs: service, environment, status, kind,
    /// since, until, limit, cursor.
    pub async fn list_deployments(&self, query: &[(&str, &str)]) -> Result<Page<Deployment>> {
        self.get("api/v1/deployments", &query).await
    }

    pub async fn get_deployment(&self, id: Id) -> Result<Deployment> {
        self.get(&format!("api/v1/deployments/{id}"), &()).await
    }

    /// Alerts on the service's components that started in the hour after the deployment.
    pub async fn deployment_alerts(&self, id: Id) -> Result<DeploymentAlerts> {
        self.get(&format!("api/v1/deployments/{id}/alerts"), &())
            .await
    }

    pub async fn deployment_events(&self, id: Id) -> Result<Vec<DeploymentEvent>> {
        self.get(&format!("api/v1/deployments/{id}/events"), &())
            .await
    }

    pub async fn deployment_logs(&self, id: Id, after: i64) -> Result<Vec<LogLine>> {
        self.get(
            &format!("api/v1/deployments/{id}/logs"),
            &[("after", after)],
        )
        .await
    }

    pub async fn cancel_deployment(&self, id: Id, reason: Option<&str>) -> Result<Deployment> {
        let body = CancelDeployment {
            reason: reason.map(str::to_owned),
        };
        self.post(&format!("api/v1/deployments/{id}/cancel"), &body)
            .await
    }

    pub async fn mark_bad(&self, id: Id, reason: &str) -> Result<Deployment> {
        self.post(
            &format!("api/v1/deployments/{id}/mark-bad"),
            &MarkBad {
                reason: reason.into(),
            },
        )
        .await
    }

    /// Reports progress with a deployment's callback token (this client's token is not used).
    pub async fn report_status(
        &self,
        id: Id,
        callback_token: &str,
        report: &StatusReport,
    ) -> Result<Deployment> {
        let req = self
            .http
            .post(self.url(&format!("api/v1/deployments/{id}/status"))?);
        self.send(req.bearer_auth(callback_token).json(report))
            .await
    }

    /// DORA figures; `query` pairs: service, environment, since, until.
    pub async fn dora(&self, query: &[(&str, &str)]) -> Result<DoraMetrics> {
        self.get("api/v1/dora", &query).await
    }

    // --- health ---

    /// The health grid: every component with its status, and counts per status.
    pub async fn health(&self) -> Result<HealthGrid> {
        self.get("api/v1/health", &()).await
    }

    pub async fn list_components(&self) -> Result<Page<Component>> {
        self.get("api/v1/components", &()).await
    }

    pub async fn create_component(&self, body: &CreateComponent) -> Result<Component> {
        self.post("api/v1/components", body).await
    }

    pub async fn get_component(&self, slug: &str) -> Result<ComponentDetail> {
        self.get(&format!("api/v1/components/{slug}"), &()).await
    }

    /// The same detail read into the caller's own type, for callers that want fields this
    /// crate's [`ComponentDetail`] may not have yet.
    pub async fn get_component_as<T: DeserializeOwned>(&self, slug: &str) -> Result<T> {
        self.get(&format!("api/v1/components/{slug}"), &()).await
    }

    pub async fn update_component(&self, slug: &str, body: &UpdateComponent) -> Result<Component> {
        self.send(
            self.request(Method::PATCH, &format!("api/v1/components/{slug}"))?
                .json(body),
        )
        .await
    }

    pub async fn list_alerts(&self, query: &AlertQuery) -> Result<Page<Alert>> {
        self.get("api/v1/alerts", query).await
    }

    /// Live alerts by triage state and severity.
    pub async fn alert_summary(&self) -> Result<AlertSummary> {
        self.get("api/v1/alerts/summary", &()).await
    }

    /// The alert's service's deployments in the hour before it started.
    pub async fn alert_deployments(&self, id: Id) -> Result<AlertDeployments> {
        self.get(&format!("api/v1/alerts/{id}/deployments"), &())
            .await
    }

    pub async fn get_alert(&self, id: Id) -> Result<AlertDetail> {
        self.get(&format!("api/v1/alerts/{id}"), &()).await
    }

    /// `action`: `acknowledge`, `escalate` or `resolve`.
    pub async fn triage_alert(
        &self,
        id: Id,
        action: &str,
        body: &TriageRequest,
    ) -> Result<AlertDetail> {
        self.post(&format!("api/v1/alerts/{id}/{action}"), body)
            .await
    }

    /// Request rate, error ratio and p99 latency over `range` (`15m`, `1h`, `7d`; default `1h`).
    /// 503 when Prometheus is not configured.
    pub async fn component_metrics(
        &self,
        slug: &str,
        query: &MetricsQuery,
    ) -> Result<ComponentMetrics> {
        self.get(&format!("api/v1/components/{slug}/metrics"), query)
            .await
    }

    /// A page of log lines, newest first; pass `next_cursor` back for older ones. 503 when no
    /// log store is configured.
    pub async fn component_logs(&self, slug: &str, query: &LogsQuery) -> Result<ComponentLogs> {
        self.get(&format!("api/v1/components/{slug}/logs"), query)
            .await
    }

    /// Every SLO, least error budget left first.
    pub async fn list_slos(&self) -> Result<Page<Slo>> {
        self.get("api/v1/slos", &()).await
    }

    pub async fn component_slos(&self, slug: &str) -> Result<Page<Slo>> {
        self.get(&format!("api/v1/components/{slug}/slos"), &())
            .await
    }

    pub async fn create_slo(&self, slug: &str, body: &CreateSlo) -> Result<Slo> {
        self.post(&format!("api/v1/components/{slug}/slos"), body)
            .await
    }

    pub async fn delete_slo(&self, slug: &str, id: Id) -> Result<()> {
        self.send_empty(self.request(
            Method::DELETE,
            &format!("api/v1/components/{slug}/slos/{id}"),
        )?)
        .await
    }

    /// An SLO's evaluations, oldest first (at most 2000, thinned evenly).
    pub async fn slo_history(
        &self,
        id: Id,
        query: &SloHistoryQuery,
    ) -> Result<Vec<SloHistoryPoint>> {
        self.get(&format!("api/v1/slos/{id}/history"), query).await
    }

    // --- system ---

    pub async fn readyz(&self) -> Result<Readiness> {
        self.get("readyz", &()).await
    }
}

/// Turns an error status into [`ClientError`], reading the problem+json body when there is one.
async fn check(resp: reqwest::Response) -> Result<reqwest::Response> {
    let status = resp.status();
    if status.is_success() || status == StatusCode::SWITCHING_PROTOCOLS {
        return Ok(resp);
    }
    let body = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<Problem>(&body) {
        Ok(problem) => Err(ClientError::Api(Box::new(problem))),
        Err(_) => Err(ClientError::Http {
            status: status.as_u16(),
            body,
        }),
    }
}
