//! A real server on 127.0.0.1:0 over a seeded database (SQLite or PostgreSQL), and a small
//! blocking HTTP client that keeps one session cookie.

#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::Datelike;
use taizhang_domain::idcard::check_character;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::registry::{validate_person, PersonInput};
use taizhang_domain::role::{Actor, Role};
use taizhang_domain::value::{RecordInput, Value};
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::testkit::TestDb;
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::{ledgers, persons, records, Db, Engine, Scope};

pub const PASSWORD: &str = "abcd1234";
/// Text that appears only in the foreign village's data.
pub const FOREIGN_MARK: &str = "外村标记";
pub const FOREIGN_NAME: &str = "李外村";
pub const VILLAGE_A: &str = "431224110201";
pub const VILLAGE_B: &str = "431224110202";

pub struct World {
    pub village_a: i64,
    pub village_b: i64,
    pub person_a: i64,
    pub person_b: i64,
    pub person_b_number: String,
    pub household_b: i64,
    pub hazard_a: i64,
    pub hazard_b: i64,
    /// A photo attached to `hazard_b` (佐证材料).
    pub attachment_b: i64,
    pub keypop_a: i64,
    /// A cadre and an organisation of 金竹村 (named so that a list showing them is caught).
    pub cadre_b: i64,
    pub org_b: i64,
    pub users: BTreeMap<String, i64>,
}

pub struct Server {
    pub base: String,
    pub world: World,
    pub db: Db,
    /// The running application's state (its counters: `state.hasher.checks()`).
    pub state: taizhang_web::AppState,
    pub rt: tokio::runtime::Runtime,
    _test_db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn id_number(seq: u32) -> String {
    let first = format!("431224198001{:02}{:03}", 1 + seq % 28, seq % 1000);
    let first17 = &first[..17];
    format!("{first17}{}", check_character(first17).unwrap_or('0'))
}

async fn seed(db: &Db) -> World {
    let sys = Actor::System;
    let mut tx = db.begin().await.expect("begin");
    let county = places::create(&mut tx, &sys, NewPlace { parent_id: None, level: PlaceLevel::County, code: Some("431224000000"), name: "溆浦县", attributes: vec![] }).await.expect("county");
    let town = places::create(&mut tx, &sys, NewPlace { parent_id: Some(county.id), level: PlaceLevel::Town, code: Some("431224110000"), name: "北斗溪镇", attributes: vec![] }).await.expect("town");
    let a = places::create(&mut tx, &sys, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some(VILLAGE_A), name: "坪溪村", attributes: vec![] }).await.expect("a");
    let b = places::create(&mut tx, &sys, NewPlace { parent_id: Some(town.id), level: PlaceLevel::Village, code: Some(VILLAGE_B), name: "金竹村", attributes: vec![] }).await.expect("b");
    ledgers::install_builtin(&mut tx, &sys, &taizhang_domain::catalogue::builtin_ledgers().expect("catalogue")).await.expect("install");
    let today = chrono::Local::now().date_naive();
    let person = |name: &str, seq: u32, place: i64| {
        let input = PersonInput { name: name.into(), id_number: id_number(seq), place_id: place, ..Default::default() };
        validate_person(&input, today).expect("person")
    };
    let pa = person("张坪溪", 1, a.id);
    let pb = person(FOREIGN_NAME, 2, b.id);
    let all = Scope::all();
    let pa = persons::create(&mut tx, &sys, &all, &pa).await.expect("pa");
    let pb = persons::create(&mut tx, &sys, &all, &pb).await.expect("pb");
    let hb_house = taizhang_storage::households::create(&mut tx, &sys, &all, "4312241102020001", b.id).await.expect("household");
    taizhang_storage::households::add_member(&mut tx, &sys, &all, hb_house.id, pb.id, "户主").await.expect("member");
    let hazards = ledgers::get(&mut tx, "hazards").await.expect("hazards");
    let day = chrono::NaiveDate::from_ymd_opt(today.year(), 1, 15).unwrap_or(today);
    let hazard = |place: i64, location: &str, description: &str| {
        let mut values = taizhang_domain::value::Values::new();
        values.insert("found_on".into(), Value::Date(day));
        values.insert("industry".into(), Value::Text("燃气".into()));
        values.insert("level".into(), Value::Text("一般".into()));
        values.insert("location".into(), Value::Text(location.into()));
        values.insert("description".into(), Value::Text(description.into()));
        RecordInput { place_id: Some(place), subject_id: None, concerns_year: None, values }
    };
    let ha = records::create(&mut tx, &hazards, &sys, &all, hazard(a.id, "坪溪村3组", "燃气管老化"), today).await.expect("ha");
    let hb = records::create(&mut tx, &hazards, &sys, &all, hazard(b.id, FOREIGN_MARK, "外村标记的隐患"), today).await.expect("hb");
    let photo = include_bytes!("../fixtures/hazard-after.png");
    let ab = taizhang_storage::attachments::add(&mut tx, &hazards, &sys, &all, hb.id, "外村照片.png", photo).await.expect("attachment");
    let kp = ledgers::get(&mut tx, "key_population").await.expect("key_population");
    let mut values = taizhang_domain::value::Values::new();
    values.insert("category".into(), Value::Text("社区矫正对象".into()));
    values.insert("listed_on".into(), Value::Date(day));
    let kpa = records::create(&mut tx, &kp, &sys, &all, RecordInput { place_id: None, subject_id: Some(pa.id), concerns_year: None, values }, today)
        .await
        .expect("key population record");
    let cadre = taizhang_domain::registry::Cadre {
        id: 0, name: FOREIGN_NAME.into(), kind: taizhang_domain::registry::CadreKind::Village, post: "村委委员".into(), unit: "金竹村村委会".into(),
        birth_date: None, place_id: b.id, person_id: None, user_id: None, phone: String::new(), ended_on: None, end_reason: String::new(),
    };
    let cadre_b = taizhang_storage::orgs::create_cadre(&mut tx, &sys, &all, &cadre, today).await.expect("cadre");
    let org = taizhang_domain::registry::Organisation {
        id: 0, name: format!("{FOREIGN_MARK}茶叶合作社"), uscc: None, kind: "农民专业合作社".into(), address: String::new(),
        place_id: b.id, contact: String::new(), phone: String::new(), ended_on: None,
    };
    let org_b = taizhang_storage::orgs::create_org(&mut tx, &sys, &all, &org).await.expect("organisation");
    let hash = taizhang_web::auth::hash_password(PASSWORD).expect("hash");
    let mut ids = BTreeMap::new();
    for (name, role, place, ledgers, must) in [
        ("admin", Role::Admin, town.id, vec![], false),
        ("leader", Role::Leader, town.id, vec![], false),
        ("clerk", Role::Clerk, town.id, vec!["hazards".to_string(), "key_population".to_string()], false),
        ("cadre", Role::VillageCadre, a.id, vec![], false),
        ("newbie", Role::Clerk, town.id, vec![], true),
        // 三员分立: the security and audit administrators of the town.
        ("security", Role::SecurityAdmin, town.id, vec![], false),
        ("auditor", Role::AuditAdmin, town.id, vec![], false),
    ] {
        let u = users::create(&mut tx, &sys, NewUser { username: name, display_name: name, password_hash: &hash, role, place_id: place, ledgers, must_change_password: must }).await.expect("user");
        ids.insert(name.to_string(), u.id);
    }
    tx.commit().await.expect("commit");
    World { village_a: a.id, village_b: b.id, person_a: pa.id, person_b: pb.id, person_b_number: pb.id_number, household_b: hb_house.id, hazard_a: ha.id, hazard_b: hb.id, attachment_b: ab.id, keypop_a: kpa.id, cadre_b: cadre_b.id, org_b: org_b.id, users: ids }
}

/// Starts a server over a fresh seeded database; `None` when PostgreSQL is not configured
/// (never under `CI=true`, where the testkit fails instead).
pub fn start(engine: Engine) -> Option<Server> {
    start_with(engine, taizhang_web::WebConfig::default())
}

pub fn start_with(engine: Engine, config: taizhang_web::WebConfig) -> Option<Server> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let test_db = rt.block_on(TestDb::new(engine)).expect("test database")?;
    let db = test_db.db.clone();
    let world = rt.block_on(seed(&db));
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let state = taizhang_web::AppState::new(db.clone(), config);
    let serve_state = state.clone();
    rt.spawn(async move {
        let _ = taizhang_web::serve_state(listener, serve_state, async {
            let _ = rx.await;
        })
        .await;
    });
    Some(Server { base: format!("{scheme}://{addr}"), world, db, state, rt, _test_db: test_db, stop: Some(tx) })
}

impl Server {
    /// Runs a query on the server's database and returns the first column of the first row.
    pub fn scalar(&self, sql: &str) -> i64 {
        let db = self.db.clone();
        let sql = sql.to_string();
        self.rt.block_on(async move {
            let mut tx = db.read().await.expect("read");
            tx.fetch_one(&sql, &[]).await.expect("query").int(0)
        })
    }

    /// A fingerprint of every table a request could change (audit excluded: reads of
    /// sensitive records are audited by design).
    pub fn fingerprint(&self) -> Vec<i64> {
        [
            "SELECT CAST(COUNT(*) + COALESCE(SUM(row_version), 0) AS BIGINT) FROM ld_hazards",
            "SELECT CAST(COUNT(*) + COALESCE(SUM(row_version), 0) AS BIGINT) FROM ld_key_population",
            "SELECT CAST(COUNT(*) + COALESCE(SUM(row_version), 0) AS BIGINT) FROM persons",
            "SELECT COUNT(*) FROM users",
            "SELECT COUNT(*) FROM ledger_defs",
            "SELECT CAST(COUNT(*) + COALESCE(SUM(row_version), 0) AS BIGINT) FROM households",
            "SELECT COUNT(*) FROM household_events",
            "SELECT CAST(COUNT(*) + COALESCE(SUM(row_version), 0) AS BIGINT) FROM cadres",
            "SELECT CAST(COUNT(*) + COALESCE(SUM(row_version), 0) AS BIGINT) FROM organisations",
            "SELECT CAST(COUNT(*) + COALESCE(SUM(value), 0) AS BIGINT) FROM settings",
        ]
        .iter()
        .map(|q| self.scalar(q))
        .collect()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    pub fn signed_in(&self, user: &str) -> Client {
        let mut c = self.client();
        let r = c.post_form("/login", &[("username", user), ("password", PASSWORD)]);
        assert_eq!(r.status, 303, "{user} signs in: {}", r.body);
        c.csrf = c.get("/api/v1/me").json()["csrf_token"].as_str().unwrap_or_default().to_string();
        c
    }
}

pub struct Reply {
    pub status: u16,
    pub location: String,
    pub body: String,
    pub bytes: Vec<u8>,
    pub content_type: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

pub struct Client {
    pub base: String,
    pub agent: ureq::Agent,
    pub cookie: String,
    pub csrf: String,
    /// Sent as `Origin` on writes (same site unless a test changes it).
    pub origin: Option<String>,
}

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Client {
    /// The home page once its 数据核查发现 card shows the findings of the current data: the
    /// checks run in the background, so the first answers may say 正在核查… or show an older
    /// result. A page without the card is returned as it comes.
    pub fn dashboard_checked(&mut self, path: &str) -> String {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let r = self.get(path);
            assert_eq!(r.status, 200, "{}", r.body);
            let current = match r.body.find("id=\"fig-checks\"") {
                None => true,
                Some(at) => r.body[at..].split('>').next().is_some_and(|tag| tag.contains("data-current=\"true\"")),
            };
            if current {
                return r.body;
            }
            assert!(std::time::Instant::now() < until, "the checks did not finish: {}", r.body);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    pub fn new(base: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            // A fresh connection per request: the server may close one after refusing a
            // write without reading its body, and a reused one would then fail.
            .max_idle_connections_per_host(0)
            .build()
            .into();
        Client { base: base.into(), agent, cookie: String::new(), csrf: String::new(), origin: Some(base.into()) }
    }

    fn finish(&mut self, r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
        let mut r = r.expect("HTTP request");
        let header = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if let Some(c) = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = c.split(';').next().unwrap_or("");
            self.cookie = if pair.ends_with('=') { String::new() } else { pair.to_string() };
        }
        let location = header("location");
        let content_type = header("content-type");
        let status = r.status().as_u16();
        let bytes = r.body_mut().with_config().limit(50 * 1024 * 1024).read_to_vec().unwrap_or_default();
        Reply { status, location, body: String::from_utf8_lossy(&bytes).into_owned(), bytes, content_type }
    }

    pub fn get(&mut self, path: &str) -> Reply {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if !self.cookie.is_empty() {
            req = req.header("Cookie", &self.cookie);
        }
        let r = req.call();
        self.finish(r)
    }

    /// A write with a body of the given type; the CSRF token travels in the header unless
    /// `with_csrf` is false.
    pub fn send(&mut self, method: &str, path: &str, content_type: &str, body: &str, with_csrf: bool) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "PUT" => self.agent.put(&url),
            "DELETE" => {
                let r = self.agent.delete(&url).header("Cookie", &self.cookie).call();
                return self.finish(r);
            }
            _ => self.agent.post(&url),
        };
        req = req.header("Content-Type", content_type);
        if !self.cookie.is_empty() {
            req = req.header("Cookie", &self.cookie);
        }
        if let Some(o) = &self.origin {
            req = req.header("Origin", o);
        }
        if with_csrf && !self.csrf.is_empty() {
            req = req.header("X-CSRF-Token", &self.csrf);
        }
        let r = req.send(body);
        self.finish(r)
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        self.send("POST", path, "application/x-www-form-urlencoded", &body, true)
    }

    /// A multipart form as the import page sends it: the CSRF token in the form's first part
    /// (never in the URL), then `parts` (already framed by `boundary`, closing delimiter
    /// included).
    pub fn post_multipart(&mut self, path: &str, boundary: &str, parts: &str) -> Reply {
        let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n{parts}", self.csrf);
        self.send("POST", path, &format!("multipart/form-data; boundary={boundary}"), &body, false)
    }

    pub fn post_json(&mut self, path: &str, body: &serde_json::Value) -> Reply {
        self.send("POST", path, "application/json", &body.to_string(), true)
    }

    pub fn put_json(&mut self, path: &str, body: &serde_json::Value) -> Reply {
        self.send("PUT", path, "application/json", &body.to_string(), true)
    }
}

/// Runs a test body on SQLite and, when configured, on PostgreSQL.
pub fn both(test: impl Fn(&Server)) {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        if let Some(server) = start(engine) {
            test(&server);
        }
    }
}
