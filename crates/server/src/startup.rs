//! Building and running the server. Tests call [`Application::build`] with port 0 and read
//! [`Application::port`]; nothing waits or sleeps for readiness.

use std::{net::TcpListener, path::Path, sync::Arc, time::Duration};

use actix_cors::Cors;
use actix_web::{
    App, HttpServer,
    dev::{Server, ServerHandle},
    http::header::HeaderValue,
    middleware::from_fn,
    web,
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use flightdeck_store::{ConnectOptions, Store};
use sha2::{Digest, Sha256};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    auth::{jwt::JwtKeys, limiter::RateLimiter},
    bootstrap::{self, BootstrapLogin},
    http::{self, middleware::SecurityPolicy},
    live::Hub,
    metrics::Metrics,
    settings::Settings,
    state::AppState,
};

pub struct Application {
    port: u16,
    host: String,
    server: Server,
    state: web::Data<AppState>,
    /// Set when this start created the first admin.
    pub bootstrap: Option<BootstrapLogin>,
    pub web_dir: Option<std::path::PathBuf>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.listen)?;
        let addr = listener.local_addr()?;
        let web_dir = settings.resolved_web_dir();
        let policy = SecurityPolicy(content_security_policy(web_dir.as_deref()));
        let run_workers = settings.run_workers;
        let (state, bootstrap) = build_state(settings, format!("http://{addr}")).await?;
        let orphans = crate::deploy::fail_orphans(&state).await?;
        if orphans > 0 {
            tracing::warn!(
                orphans,
                "failed deployments left running by the previous process"
            );
        }
        if run_workers {
            spawn_workers(&state);
        }
        let server = serve(listener, state.clone(), web_dir.clone(), policy)?;
        Ok(Application {
            port: addr.port(),
            host: addr.ip().to_string(),
            server,
            state,
            bootstrap,
            web_dir,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.state.store)
    }

    pub fn hub(&self) -> Arc<Hub> {
        Arc::clone(&self.state.hub)
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.state.store.close().await;
        result
    }
}

/// Everything the handlers and workers share: the store (migrated), the first admin, the
/// signing key, Redis, and the live hub.
async fn build_state(
    settings: Settings,
    default_public_url: String,
) -> anyhow::Result<(web::Data<AppState>, Option<BootstrapLogin>)> {
    let options = ConnectOptions {
        max_connections: settings.database_max_connections,
        ..Default::default()
    };
    let store = flightdeck_store::connect(settings.database_url.expose(), &options).await?;
    let bootstrap = bootstrap::ensure_admin(store.as_ref(), &settings).await?;
    let secret = bootstrap::jwt_secret(store.as_ref(), &settings).await?;
    bootstrap::apply_catalog(store.as_ref(), &settings.catalog).await?;
    crate::catalog_health::apply(store.as_ref(), &settings.catalog).await?;
    let redis = match &settings.redis_url {
        Some(url) => Some(
            deadpool_redis::Config::from_url(url.expose())
                .create_pool(Some(deadpool_redis::Runtime::Tokio1))?,
        ),
        None => None,
    };
    let hub = Arc::new(Hub::new(settings.live.client_buffer, redis.clone()));
    hub.start(
        Arc::clone(&store),
        settings.redis_url.as_ref().map(|u| u.expose().to_owned()),
        Duration::from_secs(u64::from(settings.live.db_poll_secs.max(1))),
        Duration::from_secs(u64::from(settings.live.retention_hours) * 3600),
    )
    .await?;
    let inbox_writer = crate::workers::inbox_writer::InboxWriter::start(Arc::clone(&store));
    let state = web::Data::new(AppState {
        jwt: JwtKeys::new(&secret, settings.auth.access_token_ttl_secs),
        limiter: RateLimiter::new(redis.clone()),
        store,
        hub,
        redis,
        metrics: Metrics::new(),
        http: reqwest::Client::builder()
            .user_agent(concat!("flightdeck/", env!("CARGO_PKG_VERSION")))
            .build()?,
        executions: Default::default(),
        inbox_ready: tokio::sync::Notify::new(),
        inbox_writer,
        alerts_ready: tokio::sync::Notify::new(),
        webhook_secrets: Default::default(),
        public_url: settings.public_url.clone().unwrap_or(default_public_url),
        settings: Arc::new(settings),
    });
    Ok((state, bootstrap))
}

fn spawn_workers(state: &web::Data<AppState>) {
    tokio::spawn(crate::workers::inbox::run(state.clone().into_inner()));
    tokio::spawn(crate::workers::alert_inbox::run(state.clone().into_inner()));
    tokio::spawn(crate::workers::escalator::run(state.clone().into_inner()));
    tokio::spawn(crate::workers::status_clock::run(
        state.clone().into_inner(),
    ));
    tokio::spawn(crate::workers::notifier::run(state.clone().into_inner()));
    if let Some(url) = state.settings.prometheus_url.clone() {
        tokio::spawn(crate::workers::slo_poller::run(
            state.clone().into_inner(),
            url,
        ));
    }
}

/// `flightdeck worker`: the background work alone, for scaled deployments where API replicas
/// run with `FLIGHTDECK_RUN_WORKERS=false`.
pub async fn run_worker(settings: Settings) -> anyhow::Result<()> {
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    let (state, _) = build_state(settings, public_url).await?;
    tokio::spawn(crate::workers::alert_inbox::run(state.clone().into_inner()));
    tokio::spawn(crate::workers::escalator::run(state.clone().into_inner()));
    tokio::spawn(crate::workers::status_clock::run(
        state.clone().into_inner(),
    ));
    tokio::spawn(crate::workers::notifier::run(state.clone().into_inner()));
    if let Some(url) = state.settings.prometheus_url.clone() {
        tokio::spawn(crate::workers::slo_poller::run(
            state.clone().into_inner(),
            url,
        ));
    }
    crate::workers::inbox::run(state.into_inner()).await;
    Ok(())
}

fn serve(
    listener: TcpListener,
    state: web::Data<AppState>,
    web_dir: Option<std::path::PathBuf>,
    policy: SecurityPolicy,
) -> anyhow::Result<Server> {
    let doc = web::Data::new(http::openapi::document());
    let settings = Arc::clone(&state.settings);
    let server = HttpServer::new(move || {
        let cors = settings.cors_origins.iter().fold(
            Cors::default()
                .allow_any_method()
                .allow_any_header()
                .expose_headers(["x-request-id", "retry-after"])
                .max_age(3600),
            |cors, origin| cors.allowed_origin(origin),
        );
        let (app, _) = App::new()
            .app_data(state.clone())
            .app_data(policy.clone())
            .app_data(http::json_config(settings.max_body_bytes))
            .app_data(http::query_config())
            .app_data(http::path_config())
            .app_data(web::PayloadConfig::new(settings.max_body_bytes))
            .wrap(cors)
            .wrap(from_fn(http::middleware::observe))
            .into_utoipa_app()
            .configure(http::register)
            .split_for_parts();
        let doc = doc.clone();
        let app = app
            .route(
                "/api/openapi.json",
                web::get().to(move || {
                    let doc = doc.clone();
                    async move { web::Json(doc.get_ref().clone()) }
                }),
            )
            .route(
                "/api/docs",
                web::get().to(|| async {
                    actix_web::HttpResponse::PermanentRedirect()
                        .insert_header((actix_web::http::header::LOCATION, "/api/docs/"))
                        .finish()
                }),
            )
            .service(
                SwaggerUi::new("/api/docs/{_:.*}")
                    .url("/api/openapi.json", http::openapi::document()),
            )
            .service(web::scope("/api").default_service(web::to(http::middleware::not_found)));
        match &web_dir {
            Some(dir) => app.service(spa_files(dir)),
            None => app.default_service(web::to(http::middleware::not_found)),
        }
    })
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

/// The SPA's files, with `index.html` for every other path so deep links load the app.
fn spa_files(dir: &Path) -> actix_files::Files {
    let index = dir.join("index.html");
    actix_files::Files::new("/", dir)
        .index_file("index.html")
        .default_handler(web::to(move |req: actix_web::HttpRequest| {
            let index = index.clone();
            async move { actix_files::NamedFile::open(index).map(|f| f.into_response(&req)) }
        }))
}

/// The policy for the SPA and API. Trunk boots the wasm with one inline module script; its hash
/// is allowed rather than all inline script.
fn content_security_policy(web_dir: Option<&Path>) -> HeaderValue {
    let hashes: Vec<String> = web_dir
        .and_then(|d| std::fs::read_to_string(d.join("index.html")).ok())
        .map(|html| {
            inline_scripts(&html)
                .map(|s| format!("'sha256-{}'", B64.encode(Sha256::digest(s))))
                .collect()
        })
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        hashes.join(" ")
    );
    HeaderValue::from_str(&policy).expect("policy is ASCII")
}

/// The bodies of `<script>` elements without `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attrs, rest) = rest.split_once('>')?;
        let (body, _) = rest.split_once("</script>")?;
        (!attrs.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::inline_scripts;

    #[test]
    fn only_inline_script_bodies_are_hashed() {
        let html = r#"<script src="/a.js"></script><script type="module">boot()</script>"#;
        assert_eq!(inline_scripts(html).collect::<Vec<_>>(), ["boot()"]);
    }
}
