//! Assembles kefu: store, bus, engine, outbox worker and the HTTP router, and serves them.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kefu_channels::dingtalk::outbound::DingtalkSender;
use kefu_channels::wechat::outbound::WechatSender;
use kefu_domain::{ChannelKind, Clock};
use kefu_engine::bot::Bot;
use kefu_engine::platforms::Platforms;
use kefu_engine::webchat::WebchatOutbound;
use kefu_engine::webhooks::WebhookWorker;
use kefu_engine::{
    Bus, Engine, InProcBus, JobPolicy, JobRunner, NatsBus, OutboxWorker, RetryPolicy, Senders,
};
use kefu_store::{SecretCipher, SqlStore, Store};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::error::ApiError;
use crate::guard::{Buckets, Hasher};
use crate::state::AppState;
use crate::{callbacks, dashboard, dingtalk, kb, media, ui, webchat, ws_agent};

pub struct App {
    pub state: AppState,
    pub store: Arc<SqlStore>,
    worker: Arc<OutboxWorker>,
    stop: watch::Sender<bool>,
    nats: Option<Arc<NatsBus>>,
}

/// The key that seals platform secrets: from the config, or from `<data_dir>/secret.key`,
/// which is created (owner-readable only) on first start.
fn secret_cipher(config: &Config) -> anyhow::Result<SecretCipher> {
    if !config.secret_key.is_empty() {
        return SecretCipher::from_base64(&config.secret_key).context("secret_key");
    }
    let path = config.data_dir.join("secret.key");
    if !path.exists() {
        write_private(&path, &SecretCipher::generate_base64())?;
    }
    let key = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    SecretCipher::from_base64(&key).with_context(|| format!("{} is not a valid key", path.display()))
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

impl App {
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
        let cipher = secret_cipher(&config)?;
        let url = config.database_url();
        let store = Arc::new(SqlStore::connect(&url, cipher).await.context("connecting to the database")?);
        store.migrate().await.context("migrating the database")?;
        // Only the backend: the URL may carry a password, and logs travel further than config.
        let backend = if url.starts_with("postgres") { "postgresql" } else { "sqlite" };
        tracing::info!(backend, "database schema up to date");
        let dyn_store: Arc<dyn Store> = store.clone();
        let nats = match config.nats_url.trim() {
            "" => None,
            url => Some(NatsBus::connect(url, &config.nats_prefix).await.context("connecting to NATS")?),
        };
        let bus: Arc<dyn Bus> = match &nats {
            Some(n) => n.clone(),
            None => Arc::new(InProcBus::default()),
        };
        let bot = Arc::new(Bot::new(config.bot.clone()));
        bot.refresh(dyn_store.as_ref()).await.context("loading the knowledge base")?;
        let engine = Arc::new(
            Engine::new(dyn_store.clone(), bus.clone(), clock.clone())
                .with_bot(bot)
                .with_routing(config.routing.clone()),
        );
        let platforms = Platforms::new(dyn_store.clone(), clock.clone());
        let wechat: Arc<WechatSender> = Arc::new(WechatSender::new(
            platforms.wx.clone(),
            platforms.tokens.clone(),
            platforms.media.clone(),
        ));
        let senders = Senders::default()
            .with(ChannelKind::Webchat, Arc::new(WebchatOutbound::new(bus.clone())))
            .with(ChannelKind::WechatOa, wechat.clone())
            .with(ChannelKind::Wecom, wechat.clone())
            .with(ChannelKind::WecomKf, wechat)
            .with(
                ChannelKind::Dingtalk,
                Arc::new(DingtalkSender::new(
                    platforms.dt.clone(),
                    platforms.tokens.clone(),
                    platforms.media.clone(),
                    platforms.sessions.clone(),
                )),
            );
        let worker = Arc::new(OutboxWorker::new(
            dyn_store.clone(),
            bus,
            clock.clone(),
            senders.clone(),
            RetryPolicy::default(),
            engine.outbox_wake(),
        ));
        let (stop, stopping) = watch::channel(false);
        let limits = &config.limits;
        let visitor_messages = Arc::new(Buckets::new(limits.visitor_burst, limits.visitor_per_minute));
        let new_visitors = Arc::new(Buckets::new(
            limits.new_visitors_per_ip_per_hour,
            limits.new_visitors_per_ip_per_hour.div_ceil(60),
        ));
        let hasher = Arc::new(Hasher::new(limits.password_hashers));
        let handlers = kefu_engine::handlers::Handlers::new(Some(platforms.clone()));
        let jobs = JobRunner::new(engine.clone(), handlers, JobPolicy::default());
        let state = AppState {
            config: Arc::new(config),
            webhooks: Arc::new(WebhookWorker::new(dyn_store.clone(), clock.clone())),
            store: dyn_store,
            engine,
            platforms,
            senders,
            clock,
            hasher,
            jobs,
            dummy_hash: Arc::default(),
            visitor_messages,
            new_visitors,
            metrics: Arc::default(),
            stopping,
        };
        Ok(App { state, store, worker, stop, nats })
    }

    pub fn worker(&self) -> &Arc<OutboxWorker> {
        &self.worker
    }

    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Serves until `shutdown` completes, with the background workers alongside; then stops
    /// accepting, tells live sockets to reconnect elsewhere, and waits for every worker.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let stop_rx = self.state.stopping.clone();
        let mut tasks = tokio::task::JoinSet::new();
        if self.state.config.workers {
            tasks.spawn(self.worker.clone().run(stop_rx.clone()));
            tasks.spawn(self.state.jobs.clone().run(stop_rx.clone()));
        }
        tasks.spawn(crate::hooks::refresh_knowledge(self.state.clone(), stop_rx.clone()));
        let every = std::time::Duration::from_millis(self.state.config.webhook_poll_ms);
        tasks.spawn(self.state.webhooks.clone().run(every, stop_rx.clone()));
        tasks.spawn(crate::hooks::tick(self.state.clone(), stop_rx.clone()));
        if let Some(metrics) = self.metrics_listener().await? {
            let router =
                Router::new().route("/metrics", get(dashboard::metrics_local)).with_state(self.state.clone());
            tasks.spawn(async move {
                let _ = crate::listen::serve(metrics, router, local_limits(), stop_rx).await;
            });
        }
        let stop = self.stop.clone();
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop.send(true);
        });
        crate::listen::serve(listener, self.router(), self.limits(), self.state.stopping.clone()).await?;
        while tasks.join_next().await.is_some() {}
        if let Some(n) = &self.nats {
            n.close().await;
        }
        self.store.close().await;
        Ok(())
    }

    async fn metrics_listener(&self) -> anyhow::Result<Option<TcpListener>> {
        let bind = self.state.config.metrics_bind.trim();
        if bind.is_empty() {
            return Ok(None);
        }
        // Metrics are an extra: a second kefu on this machine (a demo next to a real one) runs
        // without them rather than not at all.
        match TcpListener::bind(bind).await {
            Ok(l) => Ok(Some(l)),
            Err(e) => {
                tracing::warn!(error = %e, %bind, "metrics listener not started");
                Ok(None)
            }
        }
    }

    fn limits(&self) -> crate::listen::Limits {
        let c = &self.state.config;
        crate::listen::Limits {
            header_timeout: std::time::Duration::from_secs(c.limits.header_timeout_secs),
            idle_timeout: std::time::Duration::from_secs(c.limits.idle_timeout_secs),
            per_ip: c.limits.max_connections_per_ip,
            total: crate::listen::connection_budget(c.limits.max_connections),
            exempt: c.trusted_proxies.clone(),
        }
    }
}

/// The metrics listener serves one scraper.
fn local_limits() -> crate::listen::Limits {
    crate::listen::Limits {
        header_timeout: std::time::Duration::from_secs(10),
        idle_timeout: std::time::Duration::from_secs(120),
        per_ip: 16,
        total: 32,
        exempt: vec![],
    }
}

/// The `/api` router and its OpenAPI document (see `routes` and `openapi`).
fn api_router() -> (Router<AppState>, serde_json::Value) {
    let (router, api) = crate::routes::api();
    let router = router.fallback(|| async { ApiError::NotFound }).layer(middleware::from_fn(origin_guard));
    (router, crate::openapi::document_json(api))
}

/// For a load balancer's health check: this node can reach the database and is not stopping.
/// (`/healthz` only says the process answers.)
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    let unavailable = axum::http::StatusCode::SERVICE_UNAVAILABLE;
    if *state.stopping.borrow() {
        return (unavailable, "stopping").into_response();
    }
    match state.store.next_job_due().await {
        Ok(_) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (unavailable, "database unavailable").into_response()
        }
    }
}

/// Refuses state-changing API calls sent from another site's page (CSRF defence in depth,
/// alongside SameSite cookies and the per-session token).
async fn origin_guard(req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && !ws_agent::same_origin(req.headers()) {
        return ApiError::Forbidden("cross-origin request refused".into()).into_response();
    }
    next.run(req).await
}

pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let (api, doc) = api_router();
    Router::new()
        .route("/", get(ui::workbench))
        .route("/assets/{*path}", get(ui::static_file))
        .route("/widget.js", get(ui::widget_js))
        .route("/webchat/frame", get(ui::chat_frame))
        .route("/webchat/ws", get(webchat::visitor_ws))
        .route("/callback/wechat/{key}", get(callbacks::wechat_verify).post(callbacks::wechat_message))
        .route("/callback/wecom/{key}", get(callbacks::wecom_verify).post(callbacks::wecom_message))
        .route("/callback/dingtalk/{key}", post(dingtalk::robot_message))
        .route("/callback/dingtalk/{key}/events", post(dingtalk::event))
        .route("/demo", get(ui::demo_site))
        .route("/media/{id}", get(media::serve))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(dashboard::metrics))
        .merge(SwaggerUi::new("/api/docs").external_url_unchecked("/api/openapi.json", doc))
        .nest("/api", api)
        .layer(DefaultBodyLimit::max(limit))
        // A body that trickles in slower than this is cut off (the head has its own deadline).
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(std::time::Duration::from_secs(
            state.config.limits.body_timeout_secs,
        )))
        // A hard ceiling for every endpoint; the per-route DefaultBodyLimit is the real limit.
        .layer(RequestBodyLimitLayer::new(limit.max(kb::MAX_IMPORT_BYTES)))
        // Which node answered: for operators behind a load balancer, and the multi-node tests.
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("x-kefu-node"),
            HeaderValue::from_str(state.jobs.node()).unwrap_or(HeaderValue::from_static("node")),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Outermost, so the body limit's 413 and every rejection are JSON on /api too.
        .layer(axum::middleware::from_fn(crate::json_errors::json_errors))
        .with_state(state)
}
