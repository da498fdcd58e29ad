//! Hostile traffic (等保2.0, issue 18 item 5): security headers on every answer, errors
//! included; `next=` never leading off the site whatever its encoding; a connection that never
//! finishes its headers, or stops sending its body, dropped; the CSRF token never in a URL; and
//! the lockout holding under a burst of parallel wrong passwords (exactly the policy's number
//! of real password checks).

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{both, Server, PASSWORD};
use taizhang_storage::Engine;

const HEADERS: [(&str, &str); 5] = [
    ("content-security-policy", "frame-ancestors 'none'"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-store"),
];

/// Status and headers of a GET, with the session cookie if any.
fn head(s: &Server, cookie: &str, path: &str) -> (u16, ureq::http::HeaderMap) {
    let c = s.client();
    let mut req = c.agent.get(format!("{}{path}", s.base));
    if !cookie.is_empty() {
        req = req.header("Cookie", cookie);
    }
    let r = req.call().expect("GET");
    (r.status().as_u16(), r.headers().clone())
}

fn assert_hardened(label: &str, status: u16, h: &ureq::http::HeaderMap) {
    for (name, must) in HEADERS {
        let v = h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(v.contains(must), "{label} ({status}): {name} = {v:?}");
    }
    assert!(h.get("strict-transport-security").is_none(), "{label}: no HSTS on plain HTTP");
}

#[test]
fn security_headers_on_every_answer() {
    let s = common::start(Engine::Sqlite).expect("sqlite");
    let leader = s.signed_in("leader").cookie;
    let cadre = s.signed_in("cadre").cookie;
    let cases: Vec<(&str, &str, String, u16)> = vec![
        ("sign-in page", "", "/login".into(), 200),
        ("a page signed in", &leader, "/ledgers/hazards".into(), 200),
        ("API, signed out", "", "/api/v1/me".into(), 401),
        ("a page, signed out", "", "/ledgers".into(), 303),
        ("a role refused", &leader, "/admin/users".into(), 403),
        ("API, a role refused", &leader, "/api/v1/audit".into(), 403),
        ("no such page", "", "/no/such/page".into(), 404),
        ("no such API", &leader, "/api/v1/nothing".into(), 404),
        ("outside the village", &cadre, format!("/ledgers/hazards/{}", s.world.hazard_b), 404),
        ("a malformed id", &leader, "/ledgers/hazards/abc".into(), 400),
    ];
    for (label, cookie, path, status) in &cases {
        let (got, h) = head(&s, cookie, path);
        assert_eq!(got, *status, "{label}: {path}");
        assert_hardened(label, got, &h);
    }
    // The stylesheet may be cached; it still carries the rest.
    let (_, h) = head(&s, "", "/static/app.css");
    assert!(h.get("cache-control").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("max-age")));
    assert!(h.get("x-content-type-options").is_some() && h.get("content-security-policy").is_some());
    // A server error (a table gone under the running server) answers a Chinese 500 with the
    // same headers, page and API alike.
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("DROP TABLE organisations", &[]).await.expect("drop");
        tx.commit().await.expect("commit");
    });
    let (got, h) = head(&s, &leader, "/orgs");
    assert_eq!(got, 500);
    assert_hardened("server error", got, &h);
    let mut c = s.client();
    c.cookie = leader.clone();
    let r = c.get("/orgs");
    assert!(r.body.contains("服务器内部错误") && !r.body.contains("organisations"), "{}", r.body);
}

/// Where the sign-in sends the browser for a hostile `next`: the `Location` of the POST, and of
/// the GET when already signed in.
fn after_sign_in(s: &Server, next: &str) -> (String, String) {
    let mut c = s.client();
    let r = c.post_form("/login", &[("username", "leader"), ("password", PASSWORD), ("next", next)]);
    assert_eq!(r.status, 303, "{next:?}: {}", r.body);
    let posted = r.location;
    let r = c.get(&format!("/login?next={}", common::encode(next)));
    assert_eq!(r.status, 303, "{next:?}");
    (posted, r.location)
}

fn open_redirects_stay_on_site(s: &Server) {
    for hostile in [
        "/\t/evil.example/",
        "/%09/evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/%5Cevil.example/",
        "/%2F/evil.example/",
        "/%2f%2fevil.example",
        "/%252F%252Fevil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/\r\nLocation: //evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        " //evil.example",
        "/ledgers\n//evil.example",
    ] {
        let (posted, got) = after_sign_in(s, hostile);
        assert_eq!(posted, "/", "{hostile:?} after sign-in");
        assert_eq!(got, "/", "{hostile:?} when already signed in");
    }
    // The sign-in page does not carry a hostile next into its form either.
    let r = s.client().get(&format!("/login?next={}", common::encode("/%09/evil.example/")));
    let kept = r.body.split("name=\"next\" value=\"").nth(1).and_then(|v| v.split('"').next()).unwrap_or("?");
    assert!(matches!(kept, "/" | "&#x2f;") && !r.body.contains("evil"), "{}", r.body);
    // Our own paths are followed, query included.
    for local in ["/ledgers", "/ledgers/hazards?size=100&period=2023", "/search?q=%E5%BC%A0"] {
        assert_eq!(after_sign_in(s, local), (local.to_string(), local.to_string()));
    }
    // The redirect to sign-in keeps the page asked for, and it comes back there.
    let mut c = s.client();
    let r = c.get("/ledgers/hazards?size=100");
    assert_eq!((r.status, r.location.as_str()), (303, "/login?next=/ledgers/hazards%3Fsize%3D100"));
}

#[test]
fn redirects_stay_on_this_site() {
    both(open_redirects_stay_on_site);
}

/// Reads until the server closes the connection (or `limit` passes); how long it took.
fn closed_within(stream: &mut std::net::TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream.set_read_timeout(Some(limit)).expect("timeout");
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return None,
            Err(_) => return Some(start.elapsed()),
        }
    }
}

#[test]
fn slow_and_idle_connections_are_dropped() {
    let config = taizhang_web::WebConfig { header_timeout: Duration::from_secs(1), idle_timeout: Duration::from_secs(1), ..Default::default() };
    let s = common::start_with(Engine::Sqlite, config).expect("sqlite");
    let addr = s.base.trim_start_matches("http://").to_string();
    // Headers that never end (slowloris): dropped after the header timeout.
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n").expect("write");
    let took = closed_within(&mut slow, Duration::from_secs(6)).expect("a connection that never finishes its headers is closed");
    assert!(took >= Duration::from_millis(700) && took < Duration::from_secs(4), "closed after {took:?}");
    // A connection that sends nothing at all: the same.
    let mut silent = std::net::TcpStream::connect(&addr).expect("connect");
    assert!(closed_within(&mut silent, Duration::from_secs(6)).is_some(), "a silent connection is closed");
    // A body that stops arriving: dropped after the idle timeout.
    let mut stalled = std::net::TcpStream::connect(&addr).expect("connect");
    stalled.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=le").expect("write");
    assert!(closed_within(&mut stalled, Duration::from_secs(6)).is_some(), "a stalled body is closed");
    // A kept-alive connection answers, then is closed when it sits idle.
    let mut kept = std::net::TcpStream::connect(&addr).expect("connect");
    kept.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let mut first = [0u8; 64];
    let n = kept.read(&mut first).expect("answer");
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&first[..n]));
    assert!(closed_within(&mut kept, Duration::from_secs(6)).is_some(), "an idle kept-alive connection is closed");
    // Meanwhile the server answers everyone else as usual.
    assert_eq!(s.client().get("/login").status, 200);
}

/// Every URL a page names (links, form actions, sources).
fn urls(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "action=\"", "src=\"", "formaction=\""] {
        for part in html.split(attr).skip(1) {
            out.push(part.split('"').next().unwrap_or("").to_string());
        }
    }
    out
}

fn csrf_token_never_in_a_url(s: &Server) {
    let w = &s.world;
    let pages = [
        "/".to_string(),
        "/import".into(),
        "/ledgers/hazards".into(),
        "/ledgers/hazards/new".into(),
        format!("/ledgers/hazards/{}", w.hazard_a),
        format!("/persons/{}", w.person_a),
        "/cadres".into(),
        "/admin/users".into(),
        "/admin/settings".into(),
        "/password".into(),
        "/admin/security".into(),
        "/audit".into(),
    ];
    let mut seen = 0;
    for user in ["admin", "clerk", "cadre", "security", "auditor"] {
        let mut c = s.signed_in(user);
        for page in &pages {
            let r = c.get(page);
            if r.status != 200 {
                continue;
            }
            assert!(r.body.contains(&c.csrf), "{user} {page}: the page carries the token (in its forms)");
            for url in urls(&r.body) {
                assert!(!url.contains(&c.csrf) && !url.contains("csrf"), "{user} {page}: token in a URL: {url}");
            }
            seen += 1;
        }
    }
    assert!(seen >= 20, "pages looked at: {seen}");
    // The import form sends the token as its first field.
    let page = s.signed_in("clerk").get("/import").body;
    let form = page.split("enctype=\"multipart/form-data\">").nth(1).unwrap_or("");
    assert!(form.trim_start().starts_with("<input type=\"hidden\" name=\"csrf\""), "{form}");
    // A token in the URL is no longer accepted, and nothing is written.
    let mut c = s.signed_in("clerk");
    let boundary = "XyZ0123456789";
    let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"ledger\"\r\n\r\nhazards\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n所属村,发现日期\r\n--{boundary}--\r\n");
    let token = c.csrf.clone();
    let r = c.send("POST", &format!("/import?csrf={token}"), &format!("multipart/form-data; boundary={boundary}"), &body, false);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("CSRF"));
    // A wrong token in the first part is refused too; the right one is taken.
    c.csrf = "0".repeat(64);
    assert_eq!(c.post_multipart("/import", boundary, &body).status, 403);
    c.csrf = token;
    let r = c.post_multipart("/import", boundary, &body);
    assert_ne!(r.status, 403, "{}", r.body);
}

#[test]
fn the_csrf_token_is_never_in_a_url() {
    both(csrf_token_never_in_a_url);
}

/// 150 wrong passwords for one account, all at once: exactly the policy's 5 real checks run (the
/// rest are refused before Argon2), 5 failures are audited, and then even the right password is
/// refused while the account is locked. A burst of 59 wrong then the right one: refused too.
fn lockout_under_a_burst(s: &Server) {
    let checks_before = s.state.hasher.checks();
    let failed = |user: &str| s.scalar(&format!("SELECT COUNT(*) FROM audit WHERE action = 'sign_in_failed' AND actor = '{user}'"));
    let failed_before = failed("clerk");
    let burst = |user: &'static str, n: usize| -> Vec<u16> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let base = s.base.clone();
                    scope.spawn(move || {
                        let mut c = common::Client::new(&base);
                        c.post_form("/login", &[("username", user), ("password", &format!("Wrong#{i}pass"))]).status
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
        })
    };
    let statuses = burst("clerk", 150);
    let checks = s.state.hasher.checks() - checks_before;
    println!("150 parallel wrong passwords for one account: {checks} real password checks");
    assert_eq!(checks, 5, "exactly the lockout's number of real checks");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 145, "{statuses:?}");
    assert_eq!(failed("clerk") - failed_before, 5, "each real check audited once");
    let mut c = s.client();
    let r = c.post_form("/login", &[("username", "clerk"), ("password", PASSWORD)]);
    assert_eq!(r.status, 429, "the right password is refused while locked");
    assert!(r.body.contains("账号已锁定") && c.cookie.is_empty(), "{}", r.body);
    assert_eq!(s.state.hasher.checks() - checks_before, 5, "and it was not even checked");
    // 59 wrong at once, then the right one: still locked.
    let before = s.state.hasher.checks();
    let statuses = burst("leader", 59);
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5);
    let r = s.client().post_form("/login", &[("username", "leader"), ("password", PASSWORD)]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(s.state.hasher.checks() - before, 5);
    // Another account is not locked by it; the address is not either (only real failures count).
    assert_eq!(s.client().post_form("/login", &[("username", "admin"), ("password", PASSWORD)]).status, 303);
    // The stored lock: counted in the database, until the policy's 15 minutes from now.
    assert_eq!(s.scalar("SELECT COUNT(*) FROM users WHERE username IN ('clerk', 'leader') AND locked_until IS NOT NULL AND failed_attempts = 5"), 2);
}

#[test]
fn the_lockout_holds_under_a_burst() {
    both(lockout_under_a_burst);
}
