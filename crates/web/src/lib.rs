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
pub mod query;
pub mod reads;
pub mod routes;
pub mod security;
pub mod server;
pub mod show;
pub mod views;

use std::sync::Arc;

use taizhang_storage::Db;

/// How the server behaves; the defaults suit one office on plain HTTP at 127.0.0.1.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (only sent over HTTPS) and send HSTS: the site is
    /// reached over HTTPS through a reverse proxy. Implied by [`WebConfig::tls`].
    pub secure_cookie: bool,
    /// Minutes of inactivity after which a session ends; `None`: the security administrator's
    /// setting (会话超时, default 30).
    pub idle_minutes: Option<i64>,
    /// The demo database: initial passwords need not be changed at first sign-in.
    pub demo: bool,
    /// Built-in TLS with these PEM files.
    pub tls: Option<server::TlsFiles>,
    /// Serve plain HTTP on an address other than loopback (behind an HTTPS reverse proxy).
    pub allow_http: bool,
    /// A connection must finish its request headers (and a TLS handshake) within this long,
    /// and may sit idle between requests no longer than this.
    pub header_timeout: std::time::Duration,
    /// A connection whose reads or writes make no progress for this long is closed.
    pub idle_timeout: std::time::Duration,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookie: false,
            idle_minutes: None,
            demo: false,
            tls: None,
            allow_http: false,
            header_timeout: std::time::Duration::from_secs(20),
            idle_timeout: std::time::Duration::from_secs(120),
        }
    }
}

impl WebConfig {
    /// Whether browsers reach the site over HTTPS (cookies `Secure`, HSTS sent).
    pub fn https(&self) -> bool {
        self.secure_cookie || self.tls.is_some()
    }
}

pub struct Inner {
    pub db: Db,
    pub config: WebConfig,
    pub limiter: auth::RateLimiter,
    /// Argon2 on a bounded pool of blocking threads.
    pub hasher: auth::Hasher,
    /// The security policy, kept per data version (a change of a setting writes an audit row).
    policy: std::sync::Mutex<Option<(i64, Arc<taizhang_domain::security::Policy>)>>,
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
        AppState(Arc::new(Inner {
            db,
            config,
            limiter: auth::RateLimiter::default(),
            hasher: auth::Hasher::default(),
            policy: std::sync::Mutex::new(None),
            imports: Default::default(),
            cache: Default::default(),
        }))
    }

    /// The security policy at data version `version`, read in `tx` when not kept for it.
    pub async fn policy(&self, tx: &mut taizhang_storage::Tx, version: i64) -> Result<Arc<taizhang_domain::security::Policy>, taizhang_storage::StoreError> {
        if let Some((v, p)) = &*self.policy.lock().unwrap_or_else(|e| e.into_inner()) {
            if *v == version {
                return Ok(p.clone());
            }
        }
        let p = Arc::new(auth::policy(tx).await?);
        *self.policy.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, p.clone()));
        Ok(p)
    }

    /// Minutes of inactivity that end a session: `serve --idle-minutes`, else the policy's.
    pub fn idle_minutes(&self, policy: &taizhang_domain::security::Policy) -> i64 {
        self.config.idle_minutes.unwrap_or(policy.idle_minutes).max(1)
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
    serve_state(listener, AppState::new(db, config), shutdown).await
}

/// [`serve_on`] with a state the caller keeps (tests read its counters).
pub async fn serve_state(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let config = state.config.clone();
    if server::refuses_plain_http(&addr, &config) {
        anyhow::bail!(server::plain_http_refusal(&addr));
    }
    let tls = config.tls.as_ref().map(server::tls_acceptor).transpose()?;
    server::run(listener, app(state), config, tls, shutdown).await
}

/// Binds `listen` (e.g. `127.0.0.1:8080`) and serves until Ctrl-C. Plain HTTP on an address
/// other than loopback is refused unless [`WebConfig::allow_http`].
pub async fn serve(db: Db, listen: &str, config: WebConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("无法监听地址 {listen}：{e}（端口可能已被占用）"))?;
    let addr = listener.local_addr()?;
    if server::refuses_plain_http(&addr, &config) {
        anyhow::bail!(server::plain_http_refusal(&addr));
    }
    if let Some(files) = &config.tls {
        server::tls_acceptor(files)?;
    }
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    println!("台账网页服务已启动：{scheme}://{addr}/ （按 Ctrl-C 停止）");
    serve_on(listener, db, config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
