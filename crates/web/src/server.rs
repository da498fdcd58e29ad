//! The listener: plain HTTP or built-in TLS (rustls with the *ring* provider), each connection
//! served by hyper's HTTP/1 with
//! - a **header-read timeout**: a connection that does not finish its request headers within
//!   [`WebConfig::header_timeout`] is closed (it also bounds how long a kept-alive connection
//!   may sit between requests, and the TLS handshake);
//! - an **idle timeout**: a connection on which a read or write makes no progress for
//!   [`WebConfig::idle_timeout`] (a request body that stops arriving, a response nobody reads)
//!   is closed.
//!
//! A handler that runs long (an import) is not cut off: hyper reads nothing while it runs.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::WebConfig;

/// The certificate chain and private key (PEM files) of built-in TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow::anyhow!("无法读取{what}文件 {}：{e}", path.display()))
}

/// The TLS acceptor for these files, refused in Chinese when a file is missing, holds no PEM
/// certificate or key, or the key does not belong to the certificate.
pub fn tls_acceptor(files: &TlsFiles) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let cert_pem = read(&files.cert, "证书")?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("证书文件 {} 无法解析：{e}", files.cert.display()))?;
    if certs.is_empty() {
        anyhow::bail!("证书文件 {} 中没有 PEM 格式的证书（-----BEGIN CERTIFICATE-----）", files.cert.display());
    }
    let key_pem = read(&files.key, "私钥")?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| anyhow::anyhow!("私钥文件 {} 中没有 PEM 格式的私钥（-----BEGIN PRIVATE KEY-----）", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS 配置失败：{e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow::anyhow!("证书与私钥不匹配或无法使用：{e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A connection whose reads and writes each fail with `TimedOut` once they have waited
/// `idle` without progress. Progress either way re-arms both.
struct IdleIo<T> {
    inner: T,
    idle: Duration,
    read_wait: Option<Pin<Box<Sleep>>>,
    write_wait: Option<Pin<Box<Sleep>>>,
}

impl<T> IdleIo<T> {
    fn new(inner: T, idle: Duration) -> Self {
        IdleIo { inner, idle, read_wait: None, write_wait: None }
    }

    /// Waits on the timer of a pending operation, arming it first; true when it has run out.
    fn expired(slot: &mut Option<Pin<Box<Sleep>>>, idle: Duration, cx: &mut Context<'_>) -> bool {
        let sleep = slot.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + idle)));
        sleep.as_mut().poll(cx).is_ready()
    }

    fn progressed(&mut self) {
        self.read_wait = None;
        self.write_wait = None;
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "连接空闲超时")
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.progressed();
                Poll::Ready(r)
            }
            Poll::Pending if Self::expired(&mut this.read_wait, this.idle, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.progressed();
                Poll::Ready(r)
            }
            Poll::Pending if Self::expired(&mut this.write_wait, this.idle, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                this.write_wait = None;
                Poll::Ready(r)
            }
            Poll::Pending if Self::expired(&mut this.write_wait, this.idle, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves one accepted connection (after its TLS handshake, if any) until it ends or the
/// server shuts down.
async fn serve_connection<I>(io: I, remote: SocketAddr, app: Router, config: &WebConfig, mut stop: tokio::sync::watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(IdleIo::new(io, config.idle_timeout));
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        let mut app = app.clone();
        async move { tower_service::Service::call(&mut app, req).await }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(config.header_timeout).keep_alive(true).half_close(true).max_buf_size(64 * 1024);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let stopping = tokio::select! {
        _ = conn.as_mut() => false,
        _ = stop.wait_for(|s| *s) => true,
    };
    if stopping {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// Accepts connections on `listener` until `shutdown` completes, then lets the requests in
/// progress finish (at most 30 seconds).
pub async fn run(
    listener: TcpListener,
    app: Router,
    config: WebConfig,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let (app, config, stop, tls) = (app.clone(), config.clone(), stop_rx.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(tcp, remote, app, &config, stop).await,
                Some(acceptor) => {
                    // The handshake is bounded like the request headers.
                    if let Ok(Ok(stream)) = tokio::time::timeout(config.header_timeout, acceptor.accept(tcp)).await {
                        serve_connection(stream, remote, app, &config, stop).await;
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(stop_rx);
    let _ = tokio::time::timeout(Duration::from_secs(30), stop_tx.closed()).await;
    Ok(())
}

/// Whether serving plain HTTP on `addr` is refused: anything but a loopback address, unless
/// the operator said `--allow-http` (behind an HTTPS reverse proxy).
pub fn refuses_plain_http(addr: &SocketAddr, config: &WebConfig) -> bool {
    config.tls.is_none() && !config.allow_http && !addr.ip().is_loopback()
}

/// The refusal, in Chinese, naming the way out.
pub fn plain_http_refusal(addr: &SocketAddr) -> String {
    format!(
        "拒绝在 {addr} 上以明文 HTTP 提供服务：密码和会话会在网络上明文传输。请用 --tls-cert 证书文件 --tls-key 私钥文件 启用 HTTPS；\
         若在 HTTPS 反向代理之后运行，请加 --allow-http（并加 --secure-cookie）；只在本机访问时监听 127.0.0.1。"
    )
}
