//! Craft (issue 19, item 9): what every user sees is Chinese, every field is labelled, every id
//! is unique, and the stylesheet's text colours are readable.
//!
//! `every_page_of_every_role_is_chinese_labelled_and_unique` builds the demo town 北斗溪镇 on
//! SQLite, signs in as each role (系统管理员, 领导, 业务员, 村干部, 安全管理员, 审计管理员) and
//! crawls the application from its home page: every link (`<a href>`) within the application
//! and every redirect, GET only. It skips sign-out, downloads, exports, blank templates, the
//! API and the static files, and submits no form. The demo has tens of thousands of records,
//! so the crawl visits every *route shape* — the path with its numbers replaced, plus the names
//! of its query parameters, e.g. `/ledgers/hazards/{n}` or `/ledgers/hazards?page&period` — at
//! most [`PER_SHAPE`] times, and at most [`PER_ROLE`] pages per role. Each ledger's list, form
//! and records are distinct shapes (the key is in the path), so every ledger is seen by every
//! role who may read it.
//!
//! On each HTML page it checks:
//! - **visible text** — text outside `<script>`/`<style>`, and the attributes users see
//!   (`title`, `placeholder`, `aria-label`, `alt`, the `value` of submit and button inputs) —
//!   holds no ASCII word but the short [`ALLOWED`] list (file formats, units, standards) and
//!   codes of the data (capitals with digits: 图斑编号 PH2023-105), and
//!   no identifier-looking token (`snake_case`, `camelCase`, `rule:…`, `….md`); the text of an
//!   element marked `data-code` (the TOML of a ledger definition, shown to the 系统管理员 on
//!   purpose) is exempt, and so are the demo accounts' user names (data users type);
//! - **ids** unique within the page, and every `<label for>` names an element of the page;
//! - **labels**: every `<input>`, `<select>` and `<textarea>` but hidden inputs and buttons has
//!   a `<label for>`, a wrapping `<label>`, or an `aria-label`/`aria-labelledby`.
//!
//! `text_colours_are_readable` reads `static/app.css` (and the templates' `<style>` blocks) and
//! requires every text colour to reach 4.5:1 (WCAG 2 contrast) against its background.
//!
//! Run: `cargo test -p taizhang-web --test craft` (about a minute in a debug build; the page
//! count and time per role are printed with `--nocapture`).

mod common;
mod webdriver;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use taizhang_domain::role::{Actor, Role};
use taizhang_storage::testkit::TestDb;
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::Engine;

/// How many pages of one route shape are visited.
const PER_SHAPE: usize = 2;
/// How many pages one role visits at most.
const PER_ROLE: usize = 900;

/// ASCII words users may see: file formats, units, standards and product names.
const ALLOWED: &[&str] = &[
    "Excel", "PDF", "Word", "WPS", "JPEG", "PNG", "WebP", "ZIP", "HTTPS", "HTTP", "CSV", "ID", "xlsx", "xls", "csv", "docx", "TOML", "GB", "GBK", "UTF", "BOM",
    "USCC", "JSON", "API", "OpenAPI", "IP", "Q", "KB", "MB", "km", "kg", "m", "cm", "mm", "kW", "kWh", "t", "h", "min", "x", "X", "No",
];

struct Town {
    base: String,
    _rt: tokio::runtime::Runtime,
    _db: TestDb,
}

/// The accounts the crawl signs in as: (user name, role, the village for a 村干部).
const ACCOUNTS: &[(&str, Role)] = &[
    ("admin", Role::Admin),
    ("leader", Role::Leader),
    ("clerk", Role::Clerk),
    ("cadre", Role::VillageCadre),
    ("security", Role::SecurityAdmin),
    ("auditor", Role::AuditAdmin),
];

/// The demo town, built once for the tests of this file.
fn town() -> &'static Town {
    static TOWN: std::sync::OnceLock<Town> = std::sync::OnceLock::new();
    TOWN.get_or_init(demo_town)
}

fn demo_town() -> Town {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let test_db = rt.block_on(TestDb::new(Engine::Sqlite)).expect("test database").expect("sqlite");
    let db = test_db.db.clone();
    rt.block_on(async {
        taizhang_demo::build_town(&db).await.expect("demo town");
        let mut tx = db.begin().await.expect("begin");
        let town = taizhang_storage::places::towns(&mut tx).await.expect("towns").remove(0);
        let village = tx
            .fetch_one("SELECT id FROM places WHERE name = '坪溪村'", &[])
            .await
            .expect("坪溪村")
            .int(0);
        let hash = taizhang_web::auth::hash_password(common::PASSWORD).expect("hash");
        // The clerk keeps social assistance, monitoring, hazards and a special category.
        let clerk: Vec<String> = ["dibao", "dibao_payments", "monitoring", "hazards", "disputes", "key_population"].iter().map(|s| s.to_string()).collect();
        for (username, role) in ACCOUNTS {
            let (place, ledgers) = match role {
                Role::VillageCadre => (village, vec![]),
                Role::Clerk => (town.id, clerk.clone()),
                _ => (town.id, vec![]),
            };
            let u = NewUser { username, display_name: "测试用户", password_hash: &hash, role: *role, place_id: place, ledgers, must_change_password: false };
            users::create(&mut tx, &Actor::System, u).await.expect("user");
        }
        tx.commit().await.expect("commit");
    });
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    rt.spawn(async move {
        let _ = taizhang_web::serve_on(listener, db, taizhang_web::WebConfig::default(), std::future::pending()).await;
    });
    Town { base, _rt: rt, _db: test_db }
}

fn sign_in(base: &str, user: &str) -> common::Client {
    let mut c = common::Client::new(base);
    let r = c.post_form("/login", &[("username", user), ("password", common::PASSWORD)]);
    assert_eq!(r.status, 303, "{user} signs in: {}", r.body);
    c
}

#[test]
fn every_page_of_every_role_is_chinese_labelled_and_unique() {
    let town = town();
    let mut problems: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut total = 0;
    for (user, _) in ACCOUNTS {
        let started = std::time::Instant::now();
        let mut client = sign_in(&town.base, user);
        let pages = crawl(&mut client, &mut problems, user);
        total += pages;
        println!("{user}: {pages} pages in {:.1} s", started.elapsed().as_secs_f64());
    }
    let mut report = String::new();
    let mut count = 0;
    for (kind, lines) in &problems {
        report.push_str(&format!("\n== {kind} ({})\n", lines.len()));
        for l in lines {
            count += 1;
            report.push_str(&format!("  {l}\n"));
        }
    }
    assert!(count == 0, "{count} problems on {total} pages:{report}");
    assert!(total > 100, "the crawl reached only {total} pages");
}

/// Whether a link is followed.
fn followed(path: &str) -> bool {
    let p = path.split(['?', '#']).next().unwrap_or("");
    !(p.is_empty()
        || p == "/logout"
        || p.starts_with("/api/")
        || p.starts_with("/static/")
        || p.ends_with("/export")
        || p.ends_with("/template")
        || p.starts_with("/import/templates/")
        || p == "/import/errors"
        || p == "/reports/download"
        || p == "/reports/form"
        || p == "/audit/export")
}

/// The route shape of a path: numbers replaced, query names sorted.
fn shape(path: &str) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let segs: Vec<&str> = p.split('/').map(|s| if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) { "{n}" } else { s }).collect();
    let mut names: Vec<&str> = q.split('&').filter(|s| !s.is_empty()).map(|kv| kv.split('=').next().unwrap_or("")).collect();
    names.sort();
    names.dedup();
    format!("{}?{}", segs.join("/"), names.join("&"))
}

/// Resolves a link against the page it is on; `None` for another site.
fn resolve(page: &str, href: &str) -> Option<String> {
    let href = href.split('#').next().unwrap_or("");
    if href.is_empty() || href.starts_with("mailto:") || href.starts_with("javascript:") || href.starts_with("data:") {
        return None;
    }
    if href.starts_with("http://") || href.starts_with("https://") || href.starts_with("//") {
        return None;
    }
    if href.starts_with('/') {
        return Some(href.to_string());
    }
    let page_path = page.split('?').next().unwrap_or("/");
    if let Some(q) = href.strip_prefix('?') {
        return Some(format!("{page_path}?{q}"));
    }
    let dir = &page_path[..page_path.rfind('/').map(|i| i + 1).unwrap_or(0)];
    Some(format!("{dir}{href}"))
}

fn crawl(client: &mut common::Client, problems: &mut BTreeMap<String, BTreeSet<String>>, user: &str) -> usize {
    let mut queue: VecDeque<(String, String)> = VecDeque::from([("/".to_string(), String::new()), ("/password".to_string(), String::new())]);
    let mut seen: BTreeSet<String> = queue.iter().map(|(p, _)| p.clone()).collect();
    let mut shapes: HashMap<String, usize> = HashMap::new();
    let mut pages = 0;
    while let Some((path, from)) = queue.pop_front() {
        if pages >= PER_ROLE {
            break;
        }
        let sh = shape(&path);
        let n = shapes.entry(sh).or_default();
        if *n >= PER_SHAPE {
            continue;
        }
        *n += 1;
        let r = client.get(&path);
        let mut next = Vec::new();
        if (300..400).contains(&r.status) {
            next.push(r.location.clone());
        } else if r.content_type.starts_with("text/html") {
            pages += 1;
            let page = Page::parse(&r.body);
            check(&page, &format!("{user} {path}"), problems);
            next.extend(page.links.iter().cloned());
            if r.status >= 400 {
                problems.entry("error pages reached by a link".into()).or_default().insert(format!("{user} {path} (linked from {from}): {}", r.status));
            }
        }
        for href in next {
            if let Some(p) = resolve(&path, &href) {
                if followed(&p) && seen.insert(p.clone()) {
                    queue.push_back((p, path.clone()));
                }
            }
        }
    }
    pages
}

/// An element of the page: tag, attributes, and whether it sits inside a `<label>`.
struct Element {
    tag: String,
    attrs: Vec<(String, String)>,
    in_label: bool,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What the checks need of an HTML page, read by a small scanner (the workspace has no HTML
/// parser; the pages are the application's own, well-formed templates).
struct Page {
    /// Visible text, pieces separated where tags were.
    text: Vec<String>,
    elements: Vec<Element>,
    links: Vec<String>,
}

fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..end];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => u32::from_str_radix(&ent[2..], 16).ok().and_then(char::from_u32),
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                i = vs;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = decode(&s[vs..i.min(b.len())]);
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = decode(&s[vs..i]);
            }
        }
        out.push((name, value));
    }
    out
}

/// Elements whose end tag is never written.
const VOID: &[&str] = &["input", "br", "img", "meta", "link", "hr", "col", "source", "wbr", "area", "base"];

impl Page {
    fn parse(html: &str) -> Page {
        let mut page = Page { text: Vec::new(), elements: Vec::new(), links: Vec::new() };
        let mut rest = html;
        let mut labels = 0usize;
        // The open elements marked `data-code`, by tag, counting nesting of the same tag.
        let mut code: Option<(String, usize)> = None;
        while !rest.is_empty() {
            let Some(lt) = rest.find('<') else {
                if code.is_none() {
                    page.text.push(decode(rest));
                }
                break;
            };
            if lt > 0 && code.is_none() {
                page.text.push(decode(&rest[..lt]));
            }
            rest = &rest[lt..];
            if let Some(r) = rest.strip_prefix("<!--") {
                rest = r.find("-->").map(|e| &r[e + 3..]).unwrap_or("");
                continue;
            }
            let Some(gt) = find_tag_end(rest) else { break };
            let inner = &rest[1..gt];
            rest = &rest[gt + 1..];
            if inner.starts_with('!') || inner.starts_with('?') {
                continue;
            }
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim().to_ascii_lowercase();
                if name == "label" {
                    labels = labels.saturating_sub(1);
                }
                if let Some((t, depth)) = &mut code {
                    if *t == name {
                        if *depth == 0 {
                            code = None;
                        } else {
                            *depth -= 1;
                        }
                    }
                }
                continue;
            }
            let (name, attrs) = inner.split_once(|c: char| c.is_ascii_whitespace()).unwrap_or((inner, ""));
            let tag = name.trim_end_matches('/').to_ascii_lowercase();
            let attrs = parse_attrs(attrs);
            if tag == "script" || tag == "style" {
                let close = format!("</{tag}");
                rest = rest.find(&close).map(|e| &rest[e..]).unwrap_or("");
                continue;
            }
            let el = Element { tag: tag.clone(), attrs, in_label: labels > 0 };
            if let Some((t, depth)) = &mut code {
                if *t == tag {
                    *depth += 1;
                }
            } else if el.attr("data-code").is_some() && !VOID.contains(&tag.as_str()) {
                code = Some((tag.clone(), 0));
            }
            if code.is_none() {
                for a in ["title", "placeholder", "aria-label", "alt"] {
                    if let Some(v) = el.attr(a) {
                        page.text.push(v.to_string());
                    }
                }
                if tag == "input" && matches!(el.attr("type"), Some("submit" | "button" | "reset")) {
                    page.text.push(el.attr("value").unwrap_or("").to_string());
                }
            }
            if tag == "a" {
                if let Some(h) = el.attr("href") {
                    page.links.push(h.to_string());
                }
            }
            if tag == "label" {
                labels += 1;
            }
            page.text.push(String::new());
            page.elements.push(el);
        }
        page
    }
}

/// The `>` that ends the tag `s` starts with, quotes respected.
fn find_tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The ASCII tokens of a text that users should not see, each with a little context.
fn foreign_tokens(text: &str, also_allowed: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let is_tok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-' | '/' | '@' | '*' | '+' | '#' | '=');
    let mut i = 0;
    while i < chars.len() {
        if !is_tok(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_tok(chars[i]) {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let token = token.trim_matches(|c: char| matches!(c, '.' | ':' | '-' | '/' | '=' | '+'));
        if token.is_empty() || also_allowed.contains(&token) {
            continue;
        }
        if bad_token(token) {
            let from = start.saturating_sub(20);
            let to = (i + 20).min(chars.len());
            let context: String = chars[from..to].iter().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ");
            out.push(format!("「{token}」 in …{context}…"));
        }
    }
    out
}

fn bad_token(token: &str) -> bool {
    let lower = token.to_ascii_lowercase();
    if lower.starts_with("rule:") || lower.ends_with(".md") || lower.ends_with(".toml") || lower.ends_with(".rs") {
        return true;
    }
    if token.contains('_') && token.split('_').filter(|w| w.chars().any(|c| c.is_ascii_alphabetic())).count() >= 2 {
        return true;
    }
    // A code in the data (图斑编号 PH2023-105, 优待证号 HN202389): capitals with digits.
    let code = token.chars().any(|c| c.is_ascii_digit());
    // Each run of letters must be an allowed word.
    let mut words = token.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty());
    words.any(|w| !ALLOWED.contains(&w) && !(w.chars().all(|c| c.is_ascii_uppercase()) && (w.len() == 1 || code)))
}

fn check(page: &Page, at: &str, problems: &mut BTreeMap<String, BTreeSet<String>>) {
    let users: Vec<&str> = ACCOUNTS.iter().map(|(u, _)| *u).collect();
    let text = page.text.join(" ");
    for t in foreign_tokens(&text, &users) {
        problems.entry("English or internal keys shown".into()).or_default().insert(format!("{at}: {t}"));
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for e in &page.elements {
        if let Some(id) = e.attr("id") {
            *ids.entry(id).or_default() += 1;
        }
    }
    for (id, n) in &ids {
        if *n > 1 {
            problems.entry("duplicate ids".into()).or_default().insert(format!("{at}: id=\"{id}\" ×{n}"));
        }
    }
    let fors: BTreeSet<&str> = page.elements.iter().filter(|e| e.tag == "label").filter_map(|e| e.attr("for")).collect();
    for f in &fors {
        if !ids.contains_key(f) {
            problems.entry("labels for no element".into()).or_default().insert(format!("{at}: <label for=\"{f}\">"));
        }
    }
    for e in &page.elements {
        let field = match e.tag.as_str() {
            "input" => !matches!(e.attr("type"), Some("hidden" | "submit" | "button" | "reset" | "image")),
            "select" | "textarea" => true,
            _ => false,
        };
        if !field {
            continue;
        }
        let labelled = e.in_label
            || e.attr("aria-label").is_some_and(|v| !v.trim().is_empty())
            || e.attr("aria-labelledby").is_some()
            || e.attr("id").is_some_and(|id| fors.contains(id));
        if !labelled {
            let name = e.attr("name").or(e.attr("id")).unwrap_or("?");
            problems.entry("fields without a label".into()).or_default().insert(format!("{at}: <{} name=\"{name}\">", e.tag));
        }
    }
}

#[test]
fn the_scanner_finds_keys_and_passes_chinese() {
    assert!(foreign_tokens("监测标准 monitoring_line 未设", &[]).len() == 1);
    assert!(foreign_tokens("见 DOMAIN.md", &[]).len() == 1);
    assert!(foreign_tokens("rule:allow_destitute_with_dibao", &[]).len() == 1);
    assert!(foreign_tokens("Not found", &[]).len() == 2);
    assert!(foreign_tokens("状态 assisting", &[]).len() == 1);
    assert!(foreign_tokens("recordId", &[]).len() == 1);
    assert!(foreign_tokens("state PH2023", &[]).len() == 1);
    assert!(foreign_tokens("导出 Excel、CSV，4331**********1234，2023-01-05 12:30，第 3 / 12 页，43312419800101123X，500 m，图斑编号 PH2023-105，优待证号 HN202389", &[]).is_empty());
    let page = Page::parse(r#"<label>村 <select name="a"></select></label><input id="x" name="b"><label for="y">年</label><input id="y"><input type="hidden" name="c"><pre data-code>key = "found_on"</pre><p title="说明">x_y</p><script>var a_b = 1;</script>"#);
    let mut problems = BTreeMap::new();
    check(&page, "test", &mut problems);
    assert_eq!(problems.get("fields without a label").map(|s| s.len()), Some(1), "{problems:?}");
    assert_eq!(problems.get("English or internal keys shown").map(|s| s.len()), Some(1), "{problems:?}");
}

// ---- Print ----

/// How many pages a PDF has (Chromium writes each page as an object `/Type /Page`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.matches("/Type /Page").count() - text.matches("/Type /Pages").count()
}

/// The list's 打印 view holds every filtered row under a title naming the ledger and the filter;
/// in Chromium a record prints on one A4 page, and a list's rows all reach the paper.
/// `TAIZHANG_SCREENSHOTS_EXTRA=DIR` also writes the PDFs (print-list.pdf, print-record.pdf).
#[test]
fn a_list_prints_every_filtered_row_and_a_record_one_page() {
    let town = town();
    let mut admin = sign_in(&town.base, "admin");
    let list = admin.get("/ledgers/hazards?period=2023");
    assert!(list.body.contains("print=1"), "the list links its print view");
    let r = admin.get("/ledgers/hazards?period=2023&state=closed&print=1");
    assert_eq!(r.status, 200);
    let rows = r.body.matches(r#"data-label="序号""#).count();
    let head = r.body.split(r#"class="print-head""#).nth(1).and_then(|h| h.split("</p>").next()).unwrap_or_default().to_string();
    assert!(head.contains("期间：2023") && head.contains("状态：复查销号") && head.contains(&format!("共 {rows} 条")), "the title names the filter and the count: {head}");
    assert!(rows > 20, "more rows than one screen page: {rows}");
    assert!(r.body.contains("<h1>安全隐患排查整治台账</h1>"));
    assert!(!r.body.contains(r#"class="pager""#) && !r.body.contains(r#"class="filters""#), "no pager or filter form in the print view");
    let Some((driver, chromium)) = webdriver::browser() else { return };
    let d = webdriver::Driver::start(&driver, &chromium);
    d.sign_in(&town.base, "admin", common::PASSWORD);
    let extra = std::env::var("TAIZHANG_SCREENSHOTS_EXTRA").ok().map(std::path::PathBuf::from);
    // WebDriver's print takes the paper from its call, not from the stylesheet's @page (lists
    // ask for landscape A4, records for portrait).
    let print = |name: &str, orientation: &str| {
        let b64 = d.call("POST", "/print", Some(serde_json::json!({"orientation": orientation, "page": {"width": 21.0, "height": 29.7}, "background": true})));
        let pdf = webdriver::base64_decode(b64.as_str().unwrap_or_default());
        if let Some(dir) = &extra {
            std::fs::create_dir_all(dir).expect("directory");
            std::fs::write(dir.join(name), &pdf).expect("write PDF");
        }
        pdf
    };
    // A project, the built-in ledger with the most fields: one page.
    let projects = admin.get("/ledgers/projects").body;
    let id: String = projects.split("href=\"/ledgers/projects/").skip(1).map(|t| t.chars().take_while(char::is_ascii_digit).collect::<String>()).find(|id| !id.is_empty()).unwrap_or_default();
    assert!(!id.is_empty(), "a project in the demo");
    d.go(&format!("{}/ledgers/projects/{id}", town.base));
    let pages = pdf_pages(&print("print-record.pdf", "portrait"));
    assert_eq!(pages, 1, "a record prints on one page");
    d.go(&format!("{}/ledgers/hazards?period=2023&state=closed&print=1", town.base));
    let shown = d.script("return document.querySelectorAll('table.list tbody tr').length", serde_json::json!([]));
    assert_eq!(shown.as_u64(), Some(rows as u64), "every filtered row is on the page to print");
    let pages = pdf_pages(&print("print-list.pdf", "landscape"));
    assert!(pages >= 2, "{rows} rows on {pages} pages");
}

// ---- Contrast ----

/// A colour's WCAG 2 relative luminance.
fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = c as f64 / 255.0;
        if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

fn hex(s: &str) -> Option<[u8; 3]> {
    let s = s.trim().strip_prefix('#')?;
    let s: String = match s.len() {
        3 => s.chars().flat_map(|c| [c, c]).collect(),
        6 => s.to_string(),
        _ => return None,
    };
    let v = u32::from_str_radix(&s, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

/// The first hex colour of a `background` declaration.
fn background_of(decls: &[(String, String)]) -> Option<[u8; 3]> {
    decls.iter().filter(|(k, _)| k == "background" || k == "background-color").find_map(|(_, v)| v.split_whitespace().find_map(hex))
}

/// Every rule of the stylesheet: selector and declarations, `@media` blocks flattened.
fn rules(css: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut clean = String::new();
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        clean.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map(|e| &rest[i + e + 2..]).unwrap_or("");
    }
    clean.push_str(rest);
    clean
        .split('}')
        .filter_map(|piece| {
            let (sel, body) = piece.rsplit_once('{')?;
            let sel = sel.rsplit(['{', '}']).next().unwrap_or(sel).trim().to_string();
            let decls = body
                .split(';')
                .filter_map(|d| d.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().trim_end_matches("!important").trim().to_string()))
                .collect();
            Some((sel, decls))
        })
        .collect()
}

/// The light surfaces text without a background of its own can sit on: cards and tables
/// (white), the page, table heads, hovered rows, the chosen menu item, the settings' sections,
/// a step's needs.
const SURFACES: &[&str] = &["#fff", "#f0f2f5", "#f5f7fa", "#f5f9ff", "#e8f1fc", "#fafbfc", "#f4f8fd"];

/// Backgrounds implied by where a selector sits (its rule states no background of its own).
fn implied_background(sel: &str) -> Option<&'static str> {
    if sel.contains(".top") || sel.contains(".who") || sel.starts_with("button.link") {
        Some("#1d3f72")
    } else if sel.contains(".primary") {
        Some("#1f6fd1")
    } else if sel.contains(".danger") {
        Some("#c23b3b")
    } else {
        None
    }
}

#[test]
fn text_colours_are_readable() {
    // The stylesheet, and the few rules pages keep in a <style> of their own.
    let mut css = include_str!("../static/app.css").to_string();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    for entry in std::fs::read_dir(&dir).expect("templates").flatten() {
        let page = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for block in page.split("<style>").skip(1) {
            css.push_str(block.split("</style>").next().unwrap_or(""));
        }
    }
    let css = css.as_str();
    let mut bad = Vec::new();
    let mut checked = 0;
    for (sel, decls) in rules(css) {
        if sel.starts_with('@') || sel.contains("@page") {
            continue;
        }
        let Some(fg) = decls.iter().find(|(k, _)| k == "color").and_then(|(_, v)| hex(v)) else { continue };
        let backs: Vec<[u8; 3]> = match (background_of(&decls), implied_background(&sel)) {
            (Some(b), _) => vec![b],
            (None, Some(b)) => hex(b).into_iter().collect(),
            (None, None) => SURFACES.iter().filter_map(|s| hex(s)).collect(),
        };
        for b in backs {
            checked += 1;
            let ratio = contrast(fg, b);
            if ratio < 4.5 {
                bad.push(format!("{sel}: #{:02x}{:02x}{:02x} on #{:02x}{:02x}{:02x} is {ratio:.2}:1", fg[0], fg[1], fg[2], b[0], b[1], b[2]));
            }
        }
    }
    assert!(checked > 40, "only {checked} colour pairs found: is the stylesheet parsed?");
    assert!(bad.is_empty(), "text below 4.5:1:\n{}", bad.join("\n"));
}

#[test]
fn contrast_is_computed_as_wcag_does() {
    assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 0.01);
    // The grey that was used for help text: 3.08:1 on white... on #fff it is 3.1.
    let grey = contrast(hex("#909399").unwrap_or_default(), [255, 255, 255]);
    assert!(grey < 4.5 && grey > 2.9, "{grey}");
}
