//! Administration in a real browser (Chromium through chromedriver): a locked user unlocked and
//! a user disabled from the user list, a user's edit form, a ledger defined through the form (预
//! 览 shows the TOML, 保存 opens the new ledger). With `CI=true` a missing browser is a failure.
//! `TAIZHANG_SCREENSHOTS=DIR` also writes users-edit.png, define-ledger.png, and over the demo
//! town dashboard.png (the head of the town's) and audit.png (1366×768).

mod common;
mod webdriver;

use serde_json::json;
use taizhang_storage::Engine;
use webdriver::{browser, Driver};

fn shots() -> Option<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(std::env::var_os("TAIZHANG_SCREENSHOTS")?);
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    Some(dir)
}

#[test]
fn a_user_disabled_and_unlocked_and_a_ledger_defined_in_the_browser() {
    let Some((driver, chromium)) = browser() else { return };
    let s = common::start(Engine::Sqlite).expect("sqlite always runs");
    // The leader locks himself out.
    let mut other = s.client();
    for _ in 0..6 {
        other.post_form("/login", &[("username", "leader"), ("password", "wrong-password")]);
    }
    let (leader, cadre, clerk) = (s.world.users["leader"], s.world.users["cadre"], s.world.users["clerk"]);
    let d = Driver::start(&driver, &chromium);
    d.size(1366, 768);
    d.sign_in(&s.base, "admin", common::PASSWORD);
    d.go(&format!("{}/admin/users", s.base));
    let row = |user: &str| format!("Array.from(document.querySelectorAll('tr')).find(r => r.cells[0] && r.cells[0].innerText.trim() === '{user}').innerText");
    d.wait_until(&format!("{}.includes('已锁定')", row("leader")), "the locked user shown as 已锁定");
    d.click(&format!("form[action='/admin/users/{leader}/unlock'] button"));
    d.wait_until("document.body.innerText.includes('已解除锁定')", "unlocked");
    d.wait_until(&format!("{}.includes('正常')", row("leader")), "the leader back to 正常");
    assert_eq!(s.client().post_form("/login", &[("username", "leader"), ("password", common::PASSWORD)]).status, 303);
    d.click(&format!("form[action='/admin/users/{cadre}/disable'] button"));
    d.wait_until("document.body.innerText.includes('已停用该账号')", "disabled");
    d.wait_until(&format!("{}.includes('停用')", row("cadre")), "the cadre shown as 停用");
    assert_ne!(s.client().post_form("/login", &[("username", "cadre"), ("password", common::PASSWORD)]).location, "/");
    // The edit form: ledgers by name, ticked.
    d.go(&format!("{}/admin/users/{clerk}", s.base));
    d.wait_until("document.querySelector('#edit-user input[name=\"ledger:hazards\"]').checked", "the clerk's ledger ticked");
    assert!(d.source().contains("安全隐患排查整治台账"));
    if let Some(dir) = shots() {
        d.screenshot(&dir.join("users-edit.png"));
    }
    // A ledger defined through the form.
    d.go(&format!("{}/admin/ledgers", s.base));
    d.click("a[href='/admin/ledgers/form']");
    d.wait_for_url("/admin/ledgers/form");
    d.type_into("#def-name", "茶园管护台账");
    d.type_into("#def-group", "农业农村");
    d.type_into("input[name=f0_label]", "检查日期");
    d.script("document.querySelector('select[name=f0_type]').value = 'date'; document.querySelector('input[name=f0_required]').checked = true;", json!([]));
    d.type_into("input[name=f1_label]", "面积");
    d.script("document.querySelector('select[name=f1_type]').value = 'decimal';", json!([]));
    d.type_into("input[name=f1_unit]", "亩");
    d.type_into("input[name=f2_label]", "等级");
    d.script("document.querySelector('select[name=f2_type]').value = 'enum';", json!([]));
    d.type_into("input[name=f2_options]", "一等、二等、三等");
    d.type_into("input[name=f2_help]", "按县农业农村局的标准评定");
    d.click("button[name=preview]");
    d.wait_until("document.body.innerText.includes('下面是表单生成的定义')", "the preview");
    assert!(d.source().contains("[[fields]]"), "the TOML shown");
    if let Some(dir) = shots() {
        // The field rows and, below them, the generated definition.
        d.script("document.querySelector('.fields-form').scrollIntoView();", json!([]));
        d.screenshot(&dir.join("define-ledger.png"));
    }
    d.click("button[name=save]");
    d.wait_for_url("/ledgers/custom_");
    d.wait_until("document.body.innerText.includes('茶园管护台账')", "the new ledger's page");
    let key = d.url().rsplit('/').next().unwrap_or_default().to_string();
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM ld_{key}")), 0, "its table exists");
}

/// The head of the town's dashboard and the audit page over the demo town (only when
/// screenshots are asked for).
#[test]
fn screenshots_of_the_dashboard_and_audit_page() {
    let Some(dir) = shots() else { return };
    let Some((driver, chromium)) = browser() else { return };
    let Some(server) = common::start(Engine::Sqlite) else { return };
    let rt = &server.rt;
    let tdb = rt.block_on(taizhang_storage::testkit::TestDb::new(Engine::Sqlite)).expect("db").expect("sqlite");
    let db = tdb.db.clone();
    rt.block_on(async {
        taizhang_demo::build_town(&db).await.expect("demo town");
        let mut tx = db.begin().await.expect("begin");
        let town = taizhang_storage::places::towns(&mut tx).await.expect("towns").remove(0);
        let hash = taizhang_web::auth::hash_password(common::PASSWORD).expect("hash");
        for (name, display, role) in [("shotlead", "刘镇长", taizhang_domain::role::Role::Leader), ("shotaudit", "李审计", taizhang_domain::role::Role::AuditAdmin)] {
            taizhang_storage::users::create(&mut tx, &taizhang_domain::role::Actor::System, taizhang_storage::users::NewUser {
                username: name, display_name: display, password_hash: &hash, role, place_id: town.id, ledgers: vec![], must_change_password: false,
            }).await.expect("user");
        }
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
    d.sign_in(&base, "shotlead", common::PASSWORD);
    d.go(&format!("{base}/"));
    d.screenshot(&dir.join("dashboard.png"));
    // The overdue list, for looking at by eye (not committed).
    if let Some(extra) = std::env::var_os("TAIZHANG_SCREENSHOTS_EXTRA") {
        let extra = std::path::PathBuf::from(extra);
        std::fs::create_dir_all(&extra).expect("extra directory");
        d.script("document.getElementById('overdue').scrollIntoView();", json!([]));
        d.screenshot(&extra.join("dashboard-overdue.png"));
    }
    let d2 = Driver::start(&driver, &chromium);
    d2.size(1366, 768);
    d2.sign_in(&base, "shotaudit", common::PASSWORD);
    d2.go(&format!("{base}/audit?ledger=hazards"));
    d2.screenshot(&dir.join("audit.png"));
}
