//! End to end in headless Chromium, driven over WebDriver (chromedriver): sign in, add a
//! record through the form, see the dashboard figure change, download the report.
//! With `CI=true` a missing browser is a failure; otherwise the test says so and skips.
//!
//! `TAIZHANG_SCREENSHOTS=docs/screenshots` also writes screenshots of the demo town.

mod common;
mod webdriver;

use serde_json::json;
use webdriver::{browser, Driver};

fn figure(d: &Driver, base: &str, year: i32) -> i64 {
    // 未销号安全隐患起数 is one of the dashboard's default cards.
    d.go(&format!("{base}/?year={year}&ind=hazards_open"));
    d.script("return document.querySelector('#fig-hazards_open .value').dataset.value", json!([])).as_str().and_then(|v| v.parse().ok()).expect("the figure on the dashboard")
}

#[test]
fn sign_in_add_a_record_see_the_dashboard_change_and_download_the_report() {
    let Some((driver, chromium)) = browser() else { return };
    for engine in [taizhang_storage::Engine::Sqlite, taizhang_storage::Engine::Postgres] {
        if let Some(server) = common::start(engine) {
            let d = Driver::start(&driver, &chromium);
            browse(&d, &server.base);
        }
    }
}

fn browse(d: &Driver, base: &str) {
    let base = base.to_string();
    d.sign_in(&base, "cadre", common::PASSWORD);
    assert!(d.source().contains("坪溪村"), "signed in as the 村干部 of 坪溪村");
    let year = chrono::Datelike::year(&chrono::Local::now().date_naive());
    let before = figure(d, &base, year);
    // Add a gas hazard through the form, typing a date the lenient way.
    d.go(&format!("{base}/ledgers/hazards/new"));
    d.script("document.querySelector('#f-_place').value = '坪溪村'; document.querySelector('#f-industry').value = '燃气'; document.querySelector('#f-level').value = '一般';", json!([]));
    d.type_into("#f-found_on", &format!("{year}-2-3"));
    d.type_into("#f-location", "坪溪村5组");
    d.type_into("#f-description", "燃气软管老化开裂");
    d.click("#edit button[type=submit]");
    d.wait_for_url("saved=1");
    let page = d.source();
    assert!(page.contains("已保存") && page.contains(&format!("{year}-02-03")), "the record page after saving");
    assert!(d.url().contains("/ledgers/hazards/"));
    let after = figure(d, &base, year);
    assert_eq!(after, before + 1, "the dashboard figure counts the new record");
    // The report: preview, whose figures link to their records, then the Word file.
    d.go(&format!("{base}/reports/preview?period={year}"));
    assert!(d.source().contains("/explain/"), "figures link to the records behind them");
    let got = d.async_script(
        "const done = arguments[arguments.length - 1];
         fetch(document.querySelector('#download-docx').href).then(r => r.arrayBuffer().then(b => {
           const u = new Uint8Array(b);
           done({status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), size: u.length, magic: String.fromCharCode(u[0], u[1])});
         }));",
    );
    assert_eq!(got["status"], 200, "{got}");
    assert_eq!(got["magic"], "PK", "a .docx is a zip: {got}");
    assert!(got["type"].as_str().is_some_and(|t| t.contains("wordprocessingml")));
    assert!(got["disposition"].as_str().is_some_and(|t| t.contains(".docx")));
    assert!(got["size"].as_i64().unwrap_or(0) > 2000);
    // And a county form, filled.
    let form = d.async_script(
        "const done = arguments[arguments.length - 1];
         const a = Array.from(document.querySelectorAll('a')).find(x => x.href.includes('/reports/form'));
         if (!a) { done({status: 0}); return; }
         fetch(a.href).then(r => r.arrayBuffer().then(b => { const u = new Uint8Array(b); done({status: r.status, magic: String.fromCharCode(u[0], u[1])}); }));",
    );
    assert_eq!(form["status"], 200, "{form}");
    assert_eq!(form["magic"], "PK");
}

/// Screenshots of the demo town for the README (only when asked for).
#[test]
fn screenshots_of_the_demo_town() {
    let Ok(dir) = std::env::var("TAIZHANG_SCREENSHOTS") else { return };
    let Some((driver, chromium)) = browser() else { return };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    let Some(server) = common::start(taizhang_storage::Engine::Sqlite) else { return };
    // A second server over the demo town.
    let rt = &server.rt;
    let tdb = rt.block_on(taizhang_storage::testkit::TestDb::new(taizhang_storage::Engine::Sqlite)).expect("db").expect("sqlite");
    let db = tdb.db.clone();
    rt.block_on(async {
        taizhang_demo::build_town(&db).await.expect("demo town");
        let mut tx = db.begin().await.expect("begin");
        let town = taizhang_storage::places::towns(&mut tx).await.expect("towns").remove(0);
        let hash = taizhang_web::auth::hash_password(common::PASSWORD).expect("hash");
        taizhang_storage::users::create(&mut tx, &taizhang_domain::role::Actor::System, taizhang_storage::users::NewUser {
            username: "shot", display_name: "王会计", password_hash: &hash, role: taizhang_domain::role::Role::Clerk,
            place_id: town.id, ledgers: vec!["hazards".into(), "dibao_payments".into(), "monitoring".into()], must_change_password: false,
        }).await.expect("user");
        taizhang_storage::users::create(&mut tx, &taizhang_domain::role::Actor::System, taizhang_storage::users::NewUser {
            username: "shotadmin", display_name: "李审计", password_hash: &hash, role: taizhang_domain::role::Role::AuditAdmin,
            place_id: town.id, ledgers: vec![], must_change_password: false,
        }).await.expect("admin");
        tx.commit().await.expect("commit");
    });
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let serve_db = db.clone();
    rt.spawn(async move {
        let _ = taizhang_web::serve_on(listener, serve_db, taizhang_web::WebConfig::default(), std::future::pending()).await;
    });
    let d = Driver::start(&driver, &chromium);
    d.size(1366, 768);
    d.sign_in(&base, "shot", common::PASSWORD);
    d.go(&format!("{base}/?year=2023"));
    d.screenshot(&dir.join("dashboard.png"));
    d.go(&format!("{base}/ledgers/hazards?period=2023"));
    d.screenshot(&dir.join("ledger-list.png"));
    d.go(&format!("{base}/ledgers/hazards/new"));
    d.screenshot(&dir.join("record-form.png"));
    d.size(390, 844);
    d.go(&format!("{base}/?year=2023"));
    d.screenshot(&dir.join("phone-dashboard.png"));
    // More pages, for looking at by eye (not committed).
    if let Ok(extra) = std::env::var("TAIZHANG_SCREENSHOTS_EXTRA") {
        let extra = std::path::PathBuf::from(extra);
        std::fs::create_dir_all(&extra).expect("extra directory");
        d.click(".nav-button");
        d.screenshot(&extra.join("phone-menu.png"));
        d.go(&format!("{base}/ledgers/hazards/new"));
        d.screenshot(&extra.join("phone-form.png"));
        d.go(&format!("{base}/ledgers/hazards"));
        d.screenshot(&extra.join("phone-list.png"));
        d.size(1366, 768);
        for (name, path) in [
            ("record", "/ledgers/hazards/1"),
            ("checks", "/checks?period=2023"),
            ("report", "/reports/preview?period=2023"),
            ("import", "/import?ledger=hazards"),
            ("search", "/search?q=%E5%BC%A0"),
            ("monitoring", "/ledgers/monitoring"),
            ("explain", "/explain/hazards_gas?year=2023"),
        ] {
            d.go(&format!("{base}{path}"));
            d.screenshot(&extra.join(format!("{name}.png")));
        }
        // The whole record page, history at the bottom.
        d.size(1366, 1500);
        d.go(&format!("{base}/ledgers/dibao_payments/1"));
        d.screenshot(&extra.join("bulk-record-full.png"));
        // The audit trail as the 审计管理员 sees it: the demo's records in runs.
        d.click("form[action='/logout'] button");
        d.sign_in(&base, "shotadmin", common::PASSWORD);
        d.go(&format!("{base}/audit"));
        d.screenshot(&extra.join("audit.png"));
    }
    drop(tdb);
}
