//! Headless Chromium over WebDriver (chromedriver), shared by the browser tests. With `CI=true`
//! a missing browser is a failure; otherwise a test says so and skips.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()))
}

pub fn browser() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let driver = on_path("chromedriver");
    let chromium = on_path("chromium").or_else(|| on_path("chromium-browser")).or_else(|| on_path("google-chrome"));
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("CI=true but chromium or chromedriver is missing: install the Debian packages chromium and chromium-driver"),
        _ => {
            eprintln!("chromium/chromedriver not found: skipping the browser test (apt-get install chromium chromium-driver)");
            None
        }
    }
}

pub struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.agent.delete(format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

impl Driver {
    pub fn start(driver: &std::path::Path, chromium: &std::path::Path) -> Driver {
        let port = free_port();
        let child = Command::new(driver).arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let base = format!("http://127.0.0.1:{port}");
        // Wait for the driver to listen (readiness, not a timed assertion).
        let mut ready = false;
        for _ in 0..200 {
            if agent.get(format!("{base}/status")).call().is_ok() {
                ready = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(ready, "chromedriver did not start");
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=zh-CN", "--hide-scrollbars"]
        }}}});
        let mut d = Driver { child, base, session: String::new(), agent };
        let v = d.call("POST", "/session", Some(caps));
        d.session = v["sessionId"].as_str().expect("WebDriver session").to_string();
        d
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" { format!("{}/session", self.base) } else { format!("{}/session/{}{path}", self.base, self.session) };
        let r = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self.agent.post(&url).header("Content-Type", "application/json").send(body.unwrap_or(json!({})).to_string()),
        };
        let text = r.expect("WebDriver request").body_mut().read_to_string().unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(v["value"]["error"].is_null(), "WebDriver {method} {path}: {text}");
        v.get("value").cloned().unwrap_or(Value::Null)
    }

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url})));
    }

    pub fn find(&self, css: &str) -> String {
        let v = self.call("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("element id").to_string()
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{e}/value"), Some(json!({"text": text})));
    }

    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{e}/click"), None);
    }

    pub fn script(&self, js: &str, args: Value) -> Value {
        self.call("POST", "/execute/sync", Some(json!({"script": js, "args": args})))
    }

    pub fn async_script(&self, js: &str) -> Value {
        self.call("POST", "/execute/async", Some(json!({"script": js, "args": []})))
    }

    pub fn source(&self) -> String {
        self.call("GET", "/source", None).as_str().unwrap_or_default().to_string()
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap_or_default().to_string()
    }

    /// Waits for a navigation a click started (readiness, not a timed assertion).
    pub fn wait_for_url(&self, part: &str) {
        for _ in 0..400 {
            if self.url().contains(part) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the browser never reached a page whose address contains {part}: {}\n{}", self.url(), self.source());
    }

    /// Waits until a JavaScript expression is true on the page (readiness after a click that
    /// navigates, not a timed assertion).
    pub fn wait_until(&self, expression: &str, what: &str) {
        let js = format!("try {{ return !!({expression}); }} catch (e) {{ return false; }}");
        for _ in 0..400 {
            if self.script(&js, json!([])).as_bool() == Some(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{what}: never true on {}\n{}", self.url(), self.source());
    }

    pub fn size(&self, w: u32, h: u32) {
        self.call("POST", "/window/rect", Some(json!({"width": w, "height": h})));
    }

    pub fn screenshot(&self, path: &std::path::Path) {
        let b64 = self.call("GET", "/screenshot", None).as_str().unwrap_or_default().to_string();
        std::fs::write(path, base64_decode(&b64)).expect("write screenshot");
    }

    pub fn sign_in(&self, base: &str, user: &str, password: &str) {
        self.go(&format!("{base}/login"));
        self.type_into("input[name=username]", user);
        self.type_into("input[name=password]", password);
        self.click("button[type=submit]");
        for _ in 0..400 {
            if !self.url().contains("/login") {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

pub fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter_map(val) {
        buf = (buf << 6) | u32::from(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

