//! Open-loop HTTP load generator for the web benchmark (issue 6; `bench/web.sh`, BENCHMARKS.md).
//!
//! Signs in N sessions (POST /login as a browser's form would, one keep-alive connection each),
//! then offers R requests/s in total, spread evenly over the N connections and alternating the
//! given paths, for D seconds. Latency is measured from each request's *scheduled* send time, so a
//! slow server cannot hide its queue (no coordinated omission). Loopback only, bounded in count
//! (R × D requests) and in time (D plus a grace period).
//!
//! ```text
//! load --addr 127.0.0.1:18080 [--sessions 200] [--rate 1000] [--duration 20]
//!      [--paths /,/ledgers/dibao_payments] [--users admin,leader,clerk] [--password beidouxi2023]
//!      [--steps 250,500,1000,1500,2000,3000 --step-duration 10 --limit-ms 100]
//! ```
//! With `--steps`, each rate runs in turn on the same sessions and the highest rate whose p99 stays
//! under `--limit-ms` with no errors is printed; the search stops after the first failing step.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

const GRACE: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

struct Opts {
    addr: SocketAddr,
    sessions: usize,
    rate: f64,
    duration: f64,
    paths: Vec<String>,
    users: Vec<String>,
    password: String,
    steps: Vec<f64>,
    step_duration: f64,
    limit_ms: f64,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        addr: "127.0.0.1:8080".parse().map_err(|e| format!("{e}"))?,
        sessions: 200,
        rate: 1000.0,
        duration: 20.0,
        paths: vec!["/".into(), "/ledgers/dibao_payments".into()],
        users: vec!["admin".into(), "leader".into(), "clerk".into()],
        password: "beidouxi2023".into(),
        steps: Vec::new(),
        step_duration: 10.0,
        limit_ms: 100.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let num = |s: String| s.parse::<f64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--addr" => o.addr = val()?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--sessions" => o.sessions = val()?.parse().map_err(|e| format!("--sessions: {e}"))?,
            "--rate" => o.rate = num(val()?)?,
            "--duration" => o.duration = num(val()?)?,
            "--paths" => o.paths = val()?.split(',').map(str::to_string).collect(),
            "--users" => o.users = val()?.split(',').map(str::to_string).collect(),
            "--password" => o.password = val()?,
            "--steps" => o.steps = val()?.split(',').map(|s| s.parse::<f64>().map_err(|e| format!("--steps: {e}"))).collect::<Result<_, _>>()?,
            "--step-duration" => o.step_duration = num(val()?)?,
            "--limit-ms" => o.limit_ms = num(val()?)?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    if !o.addr.ip().is_loopback() {
        return Err("--addr must be a loopback address".into());
    }
    if o.sessions == 0 || o.paths.is_empty() || o.users.is_empty() || o.rate <= 0.0 || o.duration <= 0.0 {
        return Err("sessions, paths, users, rate and duration must be positive".into());
    }
    if o.rate * o.duration > 5_000_000.0 || o.steps.iter().any(|r| r * o.step_duration > 5_000_000.0) {
        return Err("more than 5,000,000 requests in one run: refused".into());
    }
    Ok(o)
}

/// One HTTP/1.1 keep-alive connection, with the bytes read past the last response.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::with_capacity(64 * 1024) })
    }

    async fn write_all(&mut self, mut data: &[u8]) -> std::io::Result<()> {
        while !data.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads more bytes into the buffer; an error at end of stream.
    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            self.stream.readable().await?;
            match self.stream.try_read(&mut chunk) {
                Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed")),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one whole response (Content-Length or chunked body), discarding the body.
    async fn read_response(&mut self) -> std::io::Result<Response> {
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        let head_end = loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad status line"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let line_end = loop {
                    if let Some(p) = find(&self.buf, b"\r\n") {
                        break p;
                    }
                    self.fill().await?;
                };
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).map_err(|_| bad("bad chunk size"))?;
                self.buf.drain(..line_end + 2);
                // The chunk and its CRLF (the last chunk: just the CRLF, no trailers expected).
                while self.buf.len() < size + 2 {
                    self.fill().await?;
                }
                self.buf.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
        } else {
            let len: usize = get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
            while self.buf.len() < len {
                self.fill().await?;
            }
            self.buf.drain(..len);
        }
        Ok(Response { status, headers })
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs in as a browser would (the sign-in form, with Origin) and keeps the connection.
async fn sign_in(addr: SocketAddr, user: &str, password: &str) -> Result<(Conn, String), String> {
    let mut conn = Conn::open(addr).await.map_err(|e| format!("connect: {e}"))?;
    let body = format!("next=%2F&username={}&password={}", encode(user), encode(password));
    let req = format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).await.map_err(|e| format!("sign-in: {e}"))?;
    let resp = conn.read_response().await.map_err(|e| format!("sign-in: {e}"))?;
    if resp.status != 303 {
        return Err(format!("sign-in as {user}: HTTP {}", resp.status));
    }
    let cookie = resp
        .headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .find(|c| c.starts_with(taizhang_web::auth::COOKIE))
        .ok_or("sign-in: no session cookie")?
        .to_string();
    Ok((conn, cookie))
}

struct Session {
    conn: Option<Conn>,
    cookie: String,
}

/// Latencies (µs) per path index, and the errors.
struct Tally {
    lat: Vec<Vec<u64>>,
    errors: u64,
    first_error: Option<String>,
}

async fn get(conn: &mut Conn, addr: SocketAddr, path: &str, cookie: &str) -> std::io::Result<u16> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nAccept: text/html\r\n\r\n");
    conn.write_all(req.as_bytes()).await?;
    Ok(conn.read_response().await?.status)
}

/// Drives one connection: request k is due at start + offset + k × interval.
#[allow(clippy::too_many_arguments)]
async fn drive(mut s: Session, addr: SocketAddr, paths: Vec<String>, start: tokio::time::Instant, offset: Duration, interval: Duration, count: u64, first: usize) -> (Session, Tally) {
    let mut t = Tally { lat: vec![Vec::with_capacity(count as usize); paths.len()], errors: 0, first_error: None };
    let deadline = start + offset + interval * count as u32 + GRACE;
    for k in 0..count {
        let due = start + offset + interval * k as u32;
        tokio::time::sleep_until(due).await;
        let p = (first + k as usize) % paths.len();
        if tokio::time::Instant::now() > deadline {
            t.errors += 1;
            t.first_error.get_or_insert_with(|| "not sent: past the run's time bound".into());
            continue;
        }
        if s.conn.is_none() {
            match Conn::open(addr).await {
                Ok(c) => s.conn = Some(c),
                Err(e) => {
                    t.errors += 1;
                    t.first_error.get_or_insert_with(|| format!("connect: {e}"));
                    continue;
                }
            }
        }
        let conn = s.conn.as_mut().expect("connected above");
        match tokio::time::timeout(REQUEST_TIMEOUT, get(conn, addr, &paths[p], &s.cookie)).await {
            Ok(Ok(200)) => t.lat[p].push(due.elapsed().as_micros() as u64),
            Ok(Ok(code)) => {
                t.errors += 1;
                t.first_error.get_or_insert_with(|| format!("GET {}: HTTP {code}", paths[p]));
                // A redirect or error page may close the connection; start afresh.
                s.conn = None;
            }
            Ok(Err(e)) => {
                t.errors += 1;
                t.first_error.get_or_insert_with(|| format!("GET {}: {e}", paths[p]));
                s.conn = None;
            }
            Err(_) => {
                t.errors += 1;
                t.first_error.get_or_insert_with(|| format!("GET {}: timed out", paths[p]));
                s.conn = None;
            }
        }
    }
    (s, t)
}

fn pct(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

struct Summary {
    count: usize,
    errors: u64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    achieved: f64,
}

fn summarize(all: &mut [u64], errors: u64, seconds: f64) -> Summary {
    all.sort_unstable();
    Summary {
        count: all.len(),
        errors,
        p50: pct(all, 0.50),
        p90: pct(all, 0.90),
        p99: pct(all, 0.99),
        max: all.last().map(|m| *m as f64 / 1000.0).unwrap_or(f64::NAN),
        achieved: all.len() as f64 / seconds,
    }
}

/// Runs one rate for `seconds` over all sessions; returns the sessions for the next run.
async fn run(sessions: Vec<Session>, o: &Opts, rate: f64, seconds: f64, label: &str) -> (Vec<Session>, Summary) {
    let n = sessions.len();
    let per_conn_rate = rate / n as f64;
    let interval = Duration::from_secs_f64(1.0 / per_conn_rate);
    let count = (per_conn_rate * seconds).round().max(1.0) as u64;
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let wall = Instant::now();
    let mut handles = Vec::with_capacity(n);
    for (i, s) in sessions.into_iter().enumerate() {
        let offset = interval.mul_f64(i as f64 / n as f64);
        handles.push(tokio::spawn(drive(s, o.addr, o.paths.clone(), start, offset, interval, count, i)));
    }
    let mut back = Vec::with_capacity(n);
    let mut per_path: Vec<Vec<u64>> = vec![Vec::new(); o.paths.len()];
    let mut errors = 0;
    let mut first_error = None;
    for h in handles {
        let (s, t) = h.await.expect("driver task");
        back.push(s);
        errors += t.errors;
        if first_error.is_none() {
            first_error = t.first_error;
        }
        for (acc, l) in per_path.iter_mut().zip(t.lat) {
            acc.extend(l);
        }
    }
    let elapsed = wall.elapsed().as_secs_f64().max(seconds);
    let mut all: Vec<u64> = per_path.iter().flatten().copied().collect();
    let total = summarize(&mut all, errors, elapsed);
    println!(
        "{label} offered {rate:.0} req/s for {seconds:.0} s over {n} sessions: {} ok ({:.0} req/s), {} errors; latency ms p50 {:.1} p90 {:.1} p99 {:.1} max {:.1}",
        total.count, total.achieved, total.errors, total.p50, total.p90, total.p99, total.max
    );
    for (path, l) in o.paths.iter().zip(per_path.iter_mut()) {
        let s = summarize(l, 0, elapsed);
        println!("{label}   {path}: {} ok; p50 {:.1} p90 {:.1} p99 {:.1} max {:.1}", s.count, s.p50, s.p90, s.p99, s.max);
    }
    if let Some(e) = first_error {
        println!("{label}   first error: {e}");
    }
    (back, total)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            std::process::exit(2);
        }
    };
    // Sign in, a few at a time (Argon2 is deliberately slow).
    let t = Instant::now();
    let mut sessions = Vec::with_capacity(o.sessions);
    let mut pending = Vec::new();
    for i in 0..o.sessions {
        let user = o.users[i % o.users.len()].clone();
        let pw = o.password.clone();
        let addr = o.addr;
        pending.push(tokio::spawn(async move { sign_in(addr, &user, &pw).await }));
        if pending.len() == 8 || i + 1 == o.sessions {
            for h in pending.drain(..) {
                match h.await.expect("sign-in task") {
                    Ok((conn, cookie)) => sessions.push(Session { conn: Some(conn), cookie }),
                    Err(e) => {
                        eprintln!("load: {e}");
                        std::process::exit(1);
                    }
                }
            }
        }
    }
    println!("signed in {} sessions as {} in {:.1} s", sessions.len(), o.users.join("/"), t.elapsed().as_secs_f64());

    if o.steps.is_empty() {
        run(sessions, &o, o.rate, o.duration, "[run]").await;
        return;
    }
    let mut best: Option<f64> = None;
    for &rate in &o.steps {
        let (back, s) = run(sessions, &o, rate, o.step_duration, "[step]").await;
        sessions = back;
        let ok = s.errors == 0 && s.p99 < o.limit_ms && s.achieved >= rate * 0.95;
        if !ok {
            break;
        }
        best = Some(rate);
    }
    match best {
        Some(r) => println!("highest rate with p99 < {:.0} ms and no errors: {r:.0} req/s", o.limit_ms),
        None => println!("no step met p99 < {:.0} ms", o.limit_ms),
    }
}
