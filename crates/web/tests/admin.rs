//! 系统管理员 pages: users (added with a policy-checked initial password that must be changed)
//! and clerk-defined ledgers; the audit trail for the 审计管理员 only (三员分立).

mod common;

use common::{both, Server};

const DEF: &str = r#"key = "tea_gardens"
name = "茶园管护台账"
group = "农业农村"
subject = "none"
[time]
kind = "event"
field = "checked_on"
[[fields]]
key = "checked_on"
label = "检查日期"
type = "date"
required = true
[[fields]]
key = "area"
label = "面积"
type = "decimal"
scale = 1
unit = "亩"
"#;

fn users_and_ledgers(s: &Server) {
    let mut admin = s.signed_in("admin");
    let town = s.scalar("SELECT id FROM places WHERE level = 'town'").to_string();
    // The policy applies to initial passwords.
    let r = admin.post_form("/admin/users", &[("username", "wangkj"), ("role", "clerk"), ("place", &town), ("password", "12345678")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("字符种类不足"), "{}", r.body);
    let r = admin.post_form("/admin/users", &[("username", "wangkj"), ("name", "王会计"), ("role", "clerk"), ("place", &town), ("ledgers", "hazards,nosuch"), ("password", "Start#1234")]);
    assert!(r.body.contains("没有台账「nosuch」"), "{}", r.body);
    let r = admin.post_form("/admin/users", &[("username", "wangkj"), ("name", "王会计"), ("role", "clerk"), ("place", &town), ("ledgers", "hazards"), ("password", "Start#1234")]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("已新增用户 wangkj"));
    let mut wang = s.client();
    let r = wang.post_form("/login", &[("username", "wangkj"), ("password", "Start#1234")]);
    assert_eq!(r.location, "/password", "a new user changes the initial password first");
    // Clerk-defined ledgers: a new ledger becomes a table and a page.
    let r = admin.post_form("/admin/ledgers", &[("definition", "key = \"x\"")]);
    assert_eq!(r.status, 422);
    let r = admin.post_form("/admin/ledgers", &[("definition", DEF)]);
    assert_eq!((r.status, r.location.as_str()), (303, "/ledgers/tea_gardens"), "{}", r.body);
    let page = admin.get("/ledgers/tea_gardens").body;
    assert!(page.contains("茶园管护台账") && page.contains("暂无记录"));
    assert_eq!(s.scalar("SELECT COUNT(*) FROM ld_tea_gardens"), 0);
    // The audit trail shows it, in Chinese, to the 审计管理员 only.
    let audit = s.signed_in("auditor").get("/audit").body;
    assert!(audit.contains("台账定义") || audit.contains("ledger_defs"), "the definition is in the audit trail");
    assert!(audit.contains("登录"));
    assert_eq!(admin.get("/audit").status, 403, "the 系统管理员 does not read the audit trail");
    assert_eq!(s.signed_in("leader").get("/audit").status, 403);
    assert_eq!(s.signed_in("cadre").get("/audit").status, 403);
    assert_eq!(s.signed_in("clerk").get("/admin/users").status, 403);
}

fn targets_on_the_dashboard(s: &Server) {
    let year = chrono::Datelike::year(&chrono::Local::now().date_naive());
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        taizhang_storage::settings::set(&mut tx, &taizhang_domain::role::Actor::System, "target:hazards_gas", year, 4).await.expect("target");
        tx.commit().await.expect("commit");
    });
    let page = s.signed_in("leader").get(&format!("/?year={year}")).body;
    let card = page.split("id=\"fig-hazards_gas\"").nth(1).unwrap_or_else(|| panic!("a card for the figure with a target: {page}"));
    let card = &card[..card.find("</div>").unwrap_or(card.len())];
    assert!(card.contains("目标 4") && card.contains("完成 50%"), "2 of 4: {card}");
}

#[test]
fn dashboard_shows_targets() {
    both(targets_on_the_dashboard);
}

#[test]
fn admin_users_and_ledger_definitions() {
    both(users_and_ledgers);
}
