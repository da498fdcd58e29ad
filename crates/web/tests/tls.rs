//! Built-in TLS (`serve --tls-cert --tls-key`, rustls on ring) with a certificate generated
//! here: pages over HTTPS carry HSTS and the session cookie is `Secure`; plain HTTP on an
//! address other than loopback is refused unless allowed; unreadable or mismatched files are
//! refused in Chinese.

mod common;

use std::sync::Arc;

use taizhang_storage::Engine;
use taizhang_web::server::TlsFiles;
use taizhang_web::WebConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

struct Certificate {
    _dir: tempfile::TempDir,
    files: TlsFiles,
    der: Vec<u8>,
}

/// A self-signed certificate for localhost and 127.0.0.1, written as PEM files.
fn certificate() -> Certificate {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).expect("certificate");
    let dir = tempfile::tempdir().expect("tmp");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).expect("write cert");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key");
    Certificate { der: made.cert.der().to_vec(), files: TlsFiles { cert, key }, _dir: dir }
}

/// One HTTP/1.1 request over TLS, trusting only `cert`; the whole answer as text.
async fn https(addr: &str, cert: &[u8], request: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls::pki_types::CertificateDer::from(cert.to_vec())).expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake with the generated certificate");
    tls.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn header<'a>(answer: &'a str, name: &str) -> Vec<&'a str> {
    let head = answer.split("\r\n\r\n").next().unwrap_or("");
    head.lines().filter_map(|l| l.split_once(':')).filter(|(k, _)| k.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()).collect()
}

#[test]
fn built_in_tls_with_hsts_and_secure_cookies() {
    let cert = certificate();
    let config = WebConfig { tls: Some(cert.files.clone()), ..Default::default() };
    let s = common::start_with(Engine::Sqlite, config).expect("sqlite");
    assert!(s.base.starts_with("https://"));
    let addr = s.base.trim_start_matches("https://").to_string();
    let page = s.rt.block_on(https(&addr, &cert.der, "GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert_eq!(header(&page, "strict-transport-security"), vec!["max-age=31536000"]);
    assert!(page.contains("乡镇工作台账 · 登录"));
    let form = format!("username=leader&password={}", common::PASSWORD);
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    let answer = s.rt.block_on(https(&addr, &cert.der, &request));
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    let cookie = header(&answer, "set-cookie").join("");
    assert!(cookie.contains("taizhang_session=") && cookie.contains("; Secure") && cookie.contains("HttpOnly"), "{cookie}");
    assert!(!header(&answer, "strict-transport-security").is_empty(), "HSTS on every answer");
    // Plain HTTP to the TLS port gets no page.
    let plain = s.client().agent.get(format!("http://{addr}/login")).call();
    assert!(plain.map(|r| r.status().as_u16() != 200).unwrap_or(true), "plain HTTP is not served on the TLS port");
}

#[test]
fn behind_an_https_proxy_cookies_are_secure_too() {
    let s = common::start_with(Engine::Sqlite, WebConfig { secure_cookie: true, ..Default::default() }).expect("sqlite");
    let c = s.client();
    let r = c
        .agent
        .post(format!("{}/login", s.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("username=leader&password={}", common::PASSWORD))
        .expect("sign in");
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(r.headers().get("strict-transport-security").is_some());
}

#[test]
fn plain_http_is_refused_away_from_loopback() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let Some(test_db) = rt.block_on(taizhang_storage::testkit::TestDb::new(Engine::Sqlite)).expect("db") else { return };
    let db = test_db.db.clone();
    // Through `serve` (what `taizhang serve --listen 0.0.0.0:…` runs): refused at once, naming the ways out.
    let refused = rt.block_on(taizhang_web::serve(db.clone(), "0.0.0.0:0", WebConfig::default())).expect_err("refused");
    let why = refused.to_string();
    assert!(why.contains("拒绝") && why.contains("明文 HTTP") && why.contains("--tls-cert") && why.contains("--allow-http"), "{why}");
    // And on a listener already bound.
    let listener = rt.block_on(tokio::net::TcpListener::bind("0.0.0.0:0")).expect("bind");
    let refused = rt.block_on(taizhang_web::serve_on(listener, db.clone(), WebConfig::default(), async {})).expect_err("refused");
    assert!(refused.to_string().contains("--allow-http"));
    // Allowed when told (behind a proxy): it serves until stopped.
    let listener = rt.block_on(tokio::net::TcpListener::bind("0.0.0.0:0")).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = rt.spawn(taizhang_web::serve_on(listener, db.clone(), WebConfig { allow_http: true, ..Default::default() }, async {
        let _ = stopped.await;
    }));
    let r = common::Client::new(&format!("http://127.0.0.1:{port}")).get("/login");
    assert_eq!(r.status, 200);
    let _ = stop.send(());
    assert!(rt.block_on(served).expect("join").is_ok());
    // With TLS, any address is fine; unreadable or mismatched files are refused in Chinese.
    let cert = certificate();
    let listener = rt.block_on(tokio::net::TcpListener::bind("0.0.0.0:0")).expect("bind");
    let ok = rt.block_on(taizhang_web::serve_on(listener, db.clone(), WebConfig { tls: Some(cert.files.clone()), ..Default::default() }, async {}));
    assert!(ok.is_ok(), "{ok:?}");
    let missing = TlsFiles { cert: cert.files.cert.with_file_name("none.pem"), key: cert.files.key.clone() };
    let why = taizhang_web::server::tls_acceptor(&missing).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(why.contains("无法读取证书文件"), "{why}");
    let other = certificate();
    let mismatched = TlsFiles { cert: cert.files.cert.clone(), key: other.files.key.clone() };
    let why = taizhang_web::server::tls_acceptor(&mismatched).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(why.contains("证书与私钥不匹配"), "{why}");
    let swapped = TlsFiles { cert: cert.files.key.clone(), key: cert.files.cert.clone() };
    let why = taizhang_web::server::tls_acceptor(&swapped).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(why.contains("没有 PEM 格式的证书"), "{why}");
}
