//! 校核 in a real browser (Chromium through chromedriver), on the demo town 北斗溪镇: the seed
//! summary of 2023 (docs/seed/beidouxi-2023-summary.txt) with one figure altered — 理论学习中心组
//! 11次 written as 13次 — is chosen in the file box; the leader sees the counts, the altered
//! figure marked 不一致 beside the ledger's 11次 and linked to its records for 2023, every other
//! recognised figure 一致, and the counts equal to the marks; the same form sent to
//! 下载带批注的 Word answers a .docx with word/comments.xml. The demo's 业务员, not assigned the
//! 特困 ledger, sees the 五保 figures as 无法对应 with no indicator. With `CI=true` a missing
//! browser is a failure. `TAIZHANG_SCREENSHOTS=DIR` also writes verify.png (1366×768, the
//! result's top) and verify-full.png (the whole page).

mod common;
mod webdriver;

use serde_json::json;
use taizhang_domain::role::{Actor, Role};
use taizhang_storage::users::{self, NewUser};
use taizhang_storage::Engine;
use webdriver::{browser, Driver};

/// A server over the demo town with a 领导 and a 业务员 (assigned what the craft test's clerk is:
/// social assistance but not the 特困 ledger, hazards, disputes, key population).
fn demo(rt: &tokio::runtime::Runtime) -> (String, taizhang_storage::testkit::TestDb) {
    let test_db = rt.block_on(taizhang_storage::testkit::TestDb::new(Engine::Sqlite)).expect("test database").expect("sqlite");
    let db = test_db.db.clone();
    rt.block_on(async {
        taizhang_demo::build_town(&db).await.expect("demo town");
        let mut tx = db.begin().await.expect("begin");
        let town = taizhang_storage::places::towns(&mut tx).await.expect("towns").remove(0);
        let hash = taizhang_web::auth::hash_password(common::PASSWORD).expect("hash");
        let clerk: Vec<String> = ["dibao", "dibao_payments", "monitoring", "hazards", "disputes", "key_population"].iter().map(|s| s.to_string()).collect();
        for (username, role, ledgers) in [("leader", Role::Leader, vec![]), ("clerk", Role::Clerk, clerk)] {
            let u = NewUser { username, display_name: "测试用户", password_hash: &hash, role, place_id: town.id, ledgers, must_change_password: false };
            users::create(&mut tx, &Actor::System, u).await.expect("user");
        }
        tx.commit().await.expect("commit");
    });
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    rt.spawn(async move {
        let _ = taizhang_web::serve_on(listener, db, taizhang_web::WebConfig::default(), std::future::pending()).await;
    });
    (base, test_db)
}

/// Chooses the draft, sets 2023 (whole year), and sends the form to 校核.
fn verify(d: &Driver, base: &str, file: &std::path::Path) {
    d.go(&format!("{base}/verify"));
    let first = d.script("return document.querySelector('form.form').elements[0].name;", json!([]));
    assert_eq!(first.as_str(), Some("csrf"), "the CSRF token is the form's first field");
    d.script("document.querySelector('#verify-year').value = '2023'; document.querySelector('#verify-span').value = '';", json!([]));
    d.type_into("#verify-file", &file.display().to_string());
    d.click("#verify-check");
    d.wait_until("document.querySelector('#verify-counts')", "the verification's counts");
}

/// The counts as the page states them, and as its marks are.
fn counts(d: &Driver) -> (serde_json::Value, serde_json::Value) {
    let stated = d.script(
        "const t = document.querySelector('#verify-counts').innerText;
         const n = re => Number((t.match(re) || [0, -1])[1]);
         return {total: n(/共 (\\d+) 处/), agrees: n(/一致 (\\d+)/), differs: n(/不一致 (\\d+)/), unmatched: n(/无法对应 (\\d+)/), nodata: n(/无数据 (\\d+)/)};",
        json!([]),
    );
    let marked = d.script(
        "const n = c => document.querySelectorAll('#verify-marked .fig.' + c).length;
         return {total: document.querySelectorAll('#verify-marked .fig').length, agrees: n('agrees'), differs: n('differs'), unmatched: n('unmatched'), nodata: n('nodata')};",
        json!([]),
    );
    (stated, marked)
}

#[test]
fn a_draft_verified_in_the_browser() {
    let Some((driver, chromium)) = browser() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let (base, _db) = demo(&rt);
    let seed = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/seed/beidouxi-2023-summary.txt")).expect("the seed");
    assert_eq!(seed.matches("理论学习中心组11次").count(), 1);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("2023年工作总结.txt");
    std::fs::write(&file, seed.replacen("理论学习中心组11次", "理论学习中心组13次", 1)).expect("write the draft");

    let d = Driver::start(&driver, &chromium);
    d.size(1366, 768);
    d.sign_in(&base, "leader", common::PASSWORD);
    assert!(d.source().contains("href=\"/verify\""), "校核 is in the menu");
    verify(&d, &base, &file);
    let (stated, marked) = counts(&d);
    assert_eq!(stated, marked, "the counts are the marks'");
    assert_eq!(stated["differs"], 1, "only the altered figure differs: {stated}");
    assert_eq!(stated["nodata"], 0, "{stated}");
    assert!(stated["agrees"].as_i64().unwrap_or(0) >= 110, "{stated}");
    assert!(stated["unmatched"].as_i64().unwrap_or(99) <= 3, "{stated}");
    // The altered figure: red, the ledger's 11次 beside it, linked to its records for 2023.
    let differs = d.script(
        "const a = document.querySelector('#verify-marked .fig.differs');
         return {text: a.innerText, note: a.nextElementSibling.innerText, href: a.getAttribute('href'), title: a.title,
                 colour: getComputedStyle(a).backgroundColor};",
        json!([]),
    );
    assert_eq!(differs["text"], "13次", "{differs}");
    assert_eq!(differs["note"], "不一致，台账 11次", "{differs}");
    assert!(differs["href"].as_str().is_some_and(|h| h.starts_with("/explain/") && h.contains("year=2023") && h.contains("as_of=2023-12-31")), "{differs}");
    assert!(differs["title"].as_str().is_some_and(|t| t.contains("台账 11次")), "{differs}");
    assert_ne!(differs["colour"], "rgba(0, 0, 0, 0)", "the mark is coloured");
    let listed = d.script("return document.querySelector('#verify-listed tr.differs').innerText;", json!([]));
    assert!(listed.as_str().is_some_and(|t| t.contains("13次") && t.contains("11次") && t.contains("-2次")), "the table names it: {listed}");
    // A figure that agrees is green and links to its records too.
    let agrees = d.script("const a = document.querySelector('#verify-marked a.fig.agrees'); return a.title;", json!([]));
    assert!(agrees.as_str().is_some_and(|t| t.starts_with("一致：")), "{agrees}");
    if let Some(shots) = std::env::var_os("TAIZHANG_SCREENSHOTS") {
        let shots = std::path::PathBuf::from(shots);
        std::fs::create_dir_all(&shots).expect("screenshot directory");
        // The counts, the table and the first marks, the red one among them.
        d.size(1366, 900);
        d.script("document.querySelector('#verify-result').scrollIntoView();", json!([]));
        d.screenshot(&shots.join("verify.png"));
        d.script("window.scrollTo(0, 0);", json!([]));
        let height = d.script("return document.body.scrollHeight;", json!([])).as_u64().unwrap_or(768).min(6000) as u32;
        d.size(1366, height);
        d.screenshot(&shots.join("verify-full.png"));
        d.size(1366, 768);
    }
    // The link opens the figure's records: the ledger's 11 for 2023.
    let href = differs["href"].as_str().unwrap_or_default().to_string();
    d.go(&format!("{base}{href}"));
    assert!(d.source().contains("11"), "the explain page");

    // The marked Word copy: the same form, the same file, sent to 下载带批注的 Word.
    verify(&d, &base, &file);
    d.type_into("#verify-file", &file.display().to_string());
    let got = d.async_script(
        "const done = arguments[arguments.length - 1];
         fetch('/verify/docx', {method: 'POST', body: new FormData(document.querySelector('form.form'))}).then(r => r.arrayBuffer().then(b => {
           const u = new Uint8Array(b);
           const text = new TextDecoder('latin1').decode(u);
           done({status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'),
                 magic: String.fromCharCode(u[0], u[1]), comments: text.includes('word/comments.xml')});
         }));",
    );
    assert_eq!(got["status"], 200, "{got}");
    assert_eq!(got["magic"], "PK", "{got}");
    assert_eq!(got["comments"], true, "the .docx holds word/comments.xml: {got}");
    assert!(got["type"].as_str().is_some_and(|t| t.contains("wordprocessingml")), "{got}");
    assert!(got["disposition"].as_str().is_some_and(|t| t.contains(".docx")), "{got}");

    // The 业务员: the 特困 ledger is not theirs, so 五保对象共206户207人 is 无法对应 with no
    // indicator and no value; the rest as the leader saw it.
    d.click("form[action='/logout'] button");
    d.sign_in(&base, "clerk", common::PASSWORD);
    verify(&d, &base, &file);
    let (clerk, marked) = counts(&d);
    assert_eq!(clerk, marked);
    assert_eq!(clerk["total"], stated["total"], "the same figures");
    assert_eq!(clerk["differs"], 1, "{clerk}");
    assert!(clerk["unmatched"].as_i64() > stated["unmatched"].as_i64(), "the 特困 figures are 无法对应: {clerk} against {stated}");
    let wubao = d.script(
        "const m = Array.from(document.querySelectorAll('#verify-marked .fig')).find(x => x.innerText === '206户');
         return {tag: m.tagName, class: m.className, title: m.title};",
        json!([]),
    );
    assert_eq!(wubao["tag"], "MARK", "no link: {wubao}");
    assert_eq!(wubao["class"], "fig unmatched", "{wubao}");
    assert!(!d.source().contains("特困供养对象"), "no indicator of the 特困 ledger is named");
}
