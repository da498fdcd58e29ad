//! The web application of Taizhang (台账): server-rendered Chinese pages and a JSON API under
//! `/api/v1`, from the one binary. Every route is declared once in [`routes::ROUTES`] with who
//! may call it and how it is confined; the router, the OpenAPI document and the confinement
//! test matrix are all generated from that table.

pub mod api;
pub mod auth;
pub mod cache;
pub mod charts;
pub mod error;
pub mod forms;
pub mod guard;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod show;
pub mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use taizhang_storage::Db;

/// How the server behaves; the defaults suit an intranet on plain HTTP.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (only sent over HTTPS).
    pub secure_cookie: bool,
    /// Minutes of inactivity after which a session ends.
    pub idle_minutes: i64,
    /// The demo database: initial passwords need not be changed at first sign-in.
    pub demo: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig { secure_cookie: false, idle_minutes: 30, demo: false }
    }
}

pub struct Inner {
    pub db: Db,
    pub config: WebConfig,
    pub limiter: auth::RateLimiter,
    pub imports: pages::import::Uploads,
    /// The ledger definitions and dashboards, kept per data version for a few seconds.
    pub cache: cache::Cache,
}

/// What every handler shares; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> AppState {
        AppState(Arc::new(Inner { db, config, limiter: auth::RateLimiter::default(), imports: Default::default(), cache: Default::default() }))
    }

    /// Today in the server's local time.
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Local::now().date_naive()
    }
}

/// The whole application as an axum router.
pub fn app(state: AppState) -> axum::Router {
    routes::router(state)
}

/// Serves on an already bound listener until `shutdown` completes (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    db: Db,
    config: WebConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = app(AppState::new(db, config));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Binds `listen` (e.g. `127.0.0.1:8080`) and serves until Ctrl-C.
pub async fn serve(db: Db, listen: &str, config: WebConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("无法监听地址 {listen}：{e}（端口可能已被占用）"))?;
    let addr = listener.local_addr()?;
    println!("台账网页服务已启动：http://{addr}/ （按 Ctrl-C 停止）");
    serve_on(listener, db, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

