//! Administration without TOML or English: users edited (name, role, place, ledgers ticked by
//! their Chinese names), disabled and unlocked, values kept on an error; ledgers defined with a
//! form and a field added to an existing one, the TOML shown, errors in Chinese; the audit page
//! paged and filtered, every action and object in Chinese.

mod common;

use common::{both, Server};
use taizhang_domain::role::Actor;
use taizhang_storage::audit::{self, Change};

fn users(s: &Server) {
    let mut admin = s.signed_in("admin");
    let clerk = s.world.users["clerk"];
    let va = s.world.village_a.to_string();
    // Ledgers by name: the list says the clerk's ledgers by name, the forms offer boxes with names.
    let page = admin.get("/admin/users").body;
    assert!(page.contains("安全隐患排查整治台账") && page.contains("name=\"ledger:hazards\""), "ledgers by name");
    assert!(!page.contains(">hazards,") && !page.contains("如 dibao,hazards"), "no keys to type");
    let form = admin.get(&format!("/admin/users/{clerk}")).body;
    let edit = &form[form.find("id=\"edit-user\"").expect("the edit form")..];
    let edit = &edit[..edit.find("</form>").unwrap_or(edit.len())];
    assert!(edit.contains("name=\"ledger:hazards\" checked") && !edit.contains("name=\"ledger:dibao\" checked"), "{edit}");
    // An error keeps what was typed and chosen, the place included.
    let r = admin.post_form(&format!("/admin/users/{clerk}"), &[("name", "王五"), ("role", "nothing"), ("place", &va), ("ledger:dibao", "on")]);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("「角色」请选择"), "{}", r.body);
    let edit = &r.body[r.body.find("id=\"edit-user\"").expect("the edit form again")..];
    assert!(edit.contains("value=\"王五\"") && edit.contains(&format!("<option value=\"{va}\" selected>")) && edit.contains("name=\"ledger:dibao\" checked"), "{edit}");
    // The add form keeps the chosen place too.
    let r = admin.post_form("/admin/users", &[("username", "liuyi"), ("name", "刘一"), ("role", "clerk"), ("place", &va), ("ledger:dibao", "on"), ("password", "short")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains(&format!("<option value=\"{va}\" selected>")) && r.body.contains("value=\"刘一\""), "place kept on error");
    // Saved: name, role, place and ledgers; the user's sessions end with the role.
    let r = admin.post_form(&format!("/admin/users/{clerk}"), &[("name", "王五"), ("role", "village_cadre"), ("place", &va), ("ledger:dibao", "on")]);
    assert_eq!((r.status, r.location.as_str()), (303, "/admin/users?done=saved"), "{}", r.body);
    assert_eq!(s.scalar(&format!("SELECT place_id FROM users WHERE id = {clerk}")), s.world.village_a);
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM users WHERE id = {clerk} AND display_name = '王五' AND role = 'village_cadre' AND ledgers LIKE '%dibao%'")), 1);
    let page = admin.get("/admin/users?done=saved").body;
    assert!(page.contains("已保存用户信息") && page.contains("低保对象台账"));
    // Officers' accounts are kept at the console.
    assert_eq!(admin.get(&format!("/admin/users/{}", s.world.users["auditor"])).status, 403);

    // Locked by wrong passwords: shown as 已锁定 and unlocked by the 系统管理员.
    let mut other = s.client();
    for _ in 0..6 {
        other.post_form("/login", &[("username", "leader"), ("password", "wrong-password")]);
    }
    let row = |page: &str, user: &str| -> String {
        let at = page.find(&format!(">{user}</a>")).unwrap_or_else(|| panic!("{user} listed"));
        let rest = &page[at..];
        rest[..rest.find("</tr>").unwrap_or(rest.len())].to_string()
    };
    let page = admin.get("/admin/users").body;
    assert!(row(&page, "leader").contains("已锁定"), "{}", row(&page, "leader"));
    let leader = s.world.users["leader"];
    assert_eq!(admin.post_form(&format!("/admin/users/{leader}/unlock"), &[]).status, 303);
    let page = admin.get("/admin/users").body;
    assert!(row(&page, "leader").contains("正常"), "{}", row(&page, "leader"));
    assert_eq!(s.client().post_form("/login", &[("username", "leader"), ("password", common::PASSWORD)]).status, 303);
    // Disabled: cannot sign in; enabled again.
    let cadre = s.world.users["cadre"];
    assert_eq!(admin.post_form(&format!("/admin/users/{cadre}/disable"), &[]).status, 303);
    assert!(row(&admin.get("/admin/users").body, "cadre").contains("停用"));
    let r = s.client().post_form("/login", &[("username", "cadre"), ("password", common::PASSWORD)]);
    assert_ne!(r.location, "/", "a disabled account does not sign in");
    assert_eq!(admin.post_form(&format!("/admin/users/{cadre}/enable"), &[]).status, 303);
    // The audit page names these in Chinese.
    let audit = s.signed_in("auditor").get("/audit?ledger=users").body;
    assert!(audit.contains("解除锁定") && audit.contains("停用账号") && audit.contains("启用账号") && audit.contains("修改用户信息"), "{audit}");
}

fn ledger_form(s: &Server) {
    let mut admin = s.signed_in("admin");
    let fields: Vec<(&str, &str)> = vec![
        ("name", "茶园管护台账"),
        ("group", "农业农村"),
        ("subject", "none"),
        ("f0_label", "检查日期"),
        ("f0_type", "date"),
        ("f0_required", "on"),
        ("f1_label", "面积"),
        ("f1_type", "decimal"),
        ("f1_unit", "亩"),
        ("f1_help", "按承包合同填写"),
        ("f2_label", "等级"),
        ("f2_type", "enum"),
        ("f2_options", "一等、二等"),
        ("f3_label", ""),
        ("f3_type", "text"),
    ];
    // Errors in Chinese: an enum without options, a ledger without a date.
    let mut bad = fields.clone();
    bad[12] = ("f2_options", "");
    let r = admin.post_form("/admin/ledgers/form", &bad);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("单选、多选至少要有两个选项") && r.body.contains("value=\"茶园管护台账\"") && r.body.contains("value=\"按承包合同填写\""), "values kept");
    let no_date: Vec<(&str, &str)> = fields.iter().copied().filter(|(k, _)| !k.starts_with("f0")).collect();
    let r = admin.post_form("/admin/ledgers/form", &no_date);
    assert!(r.status == 422 && r.body.contains("请至少添加一个「日期」或「月份」字段"), "{}", r.body);
    // 预览 shows the generated definition.
    let mut preview = fields.clone();
    preview.push(("preview", "1"));
    let r = admin.post_form("/admin/ledgers/form", &preview);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("[[fields]]") && r.body.contains("查看生成的定义") && r.body.contains("一等"), "{}", r.body);
    // 保存 defines it: a table and a page.
    let mut save = fields.clone();
    save.push(("save", "1"));
    let r = admin.post_form("/admin/ledgers/form", &save);
    assert_eq!(r.status, 303, "{}", r.body);
    let key = r.location.trim_start_matches("/ledgers/").to_string();
    assert!(admin.get(&r.location).body.contains("茶园管护台账"));
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM ld_{key}")), 0);
    // Loaded again to add a field.
    let page = admin.get(&format!("/admin/ledgers/form?load={key}")).body;
    assert!(page.contains("给「茶园管护台账」增加字段") && page.contains("按承包合同填写"), "the existing fields shown");
    let r = admin.post_form("/admin/ledgers/form", &[("base", &key), ("name", "茶园管护台账"), ("group", "农业农村"), ("f0_label", "管护人"), ("f0_type", "text"), ("save", "1")]);
    assert_eq!((r.status, r.location.as_str()), (303, format!("/ledgers/{key}").as_str()), "{}", r.body);
    assert!(admin.get(&format!("/admin/ledgers/form?load={key}")).body.contains("管护人"));
    assert!(admin.get(&format!("/ledgers/{key}/new")).body.contains("管护人"), "the new field on the record form");
    // The pasted definition's parser errors come out in Chinese.
    let r = admin.post_form("/admin/ledgers", &[("definition", "key = \"x\"")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("缺少必填项") && !r.body.contains("missing field"), "{}", r.body);
    let r = admin.post_form("/admin/ledgers", &[("definition", "key = \"x\"\nname = \"甲\"\nbogus = 1\n")]);
    assert!(!r.body.contains("unknown field") && r.body.contains("台账定义"), "{}", r.body);
}

fn audit_page(s: &Server) {
    // Sixty entries more than the seed's, so there are pages.
    let db = s.db.clone();
    let town = s.scalar("SELECT id FROM places WHERE level = 'town'");
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        for i in 0..60 {
            let note = format!("测试导出 {i}");
            audit::append(&mut tx, &Actor::System, Change { action: "export", entity: "audit", entity_id: None, place_id: Some(town), before: None, after: None, note: &note }).await.expect("append");
        }
        tx.commit().await.expect("commit");
    });
    // A workflow step, to be named by its label.
    let mut clerk = s.signed_in("clerk");
    let v = s.scalar(&format!("SELECT row_version FROM ld_hazards WHERE id = {}", s.world.hazard_a));
    let day = chrono::Local::now().date_naive().to_string();
    let r = clerk.post_json(
        &format!("/api/v1/ledgers/hazards/records/{}/transitions/assign", s.world.hazard_a),
        &serde_json::json!({"version": v, "values": {"rectify_person": "张三", "rectify_deadline": day, "rectify_measures": "更换燃气管", "rectify_standard": "不漏气"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let mut auditor = s.signed_in("auditor");
    let page = auditor.get("/audit").body;
    assert!(page.contains("第 1 / ") && page.contains("rel=\"next\""), "paged");
    assert_eq!(page.matches("<tr><td>").count(), 50, "fifty a page");
    let total: i64 = page.split("共 ").nth(1).and_then(|t| t.split(' ').next()).and_then(|t| t.parse().ok()).expect("the total");
    assert!(total > 60 && page.contains(&format!("第 1 / {} 页", (total + 49) / 50)), "{total}");
    let next = page.split("href=\"/audit?").nth(1).and_then(|r| r.split('"').next()).expect("next link").replace("&amp;", "&");
    let page2 = auditor.get(&format!("/audit?{next}")).body;
    assert!(page2.contains("第 2 / ") && page2.contains("rel=\"prev\""));
    // By ledger: the step by its label, the object by the ledger's name.
    let page = auditor.get("/audit?ledger=hazards").body;
    assert!(page.contains("办理：下达整改（落实五定）") && page.contains("安全隐患排查整治台账"), "{page}");
    assert!(!page.contains("ld_hazards") && !page.contains(">assign<") && !page.contains(">transition<"), "no keys");
    // By action and user.
    let page = auditor.get("/audit?action=export&user=system").body;
    assert!(page.contains("测试导出 59") && page.contains("操作日志") && !page.contains("办理："), "{page}");
    let page = auditor.get("/audit?user=clerk").body;
    assert!(page.contains("办理：") && !page.contains("测试导出"));
    // By date: nothing after today, everything up to today.
    let tomorrow = (chrono::Local::now().date_naive() + chrono::Duration::days(1)).to_string();
    assert!(auditor.get(&format!("/audit?from={tomorrow}")).body.contains("共 0 条"));
    assert!(auditor.get(&format!("/audit?to={day}&action=export")).body.contains("共 60 条"));
    // A date that is no date is said in Chinese.
    let r = auditor.get("/audit?from=abc");
    assert_eq!(r.status, 422);
    assert!(r.body.contains("「起始日期」"));
    // The filter lists: actions in Chinese.
    let page = auditor.get("/audit").body;
    assert!(page.contains(">导出</option>") && page.contains(">登录</option>") && !page.contains(">sign_in</option>"));
}

#[test]
fn users_edited_disabled_unlocked_ledgers_by_name_values_kept() {
    both(users);
}

#[test]
fn ledger_defined_and_extended_with_a_form_errors_in_chinese() {
    both(ledger_form);
}

#[test]
fn audit_page_paged_filtered_and_in_chinese() {
    both(audit_page);
}
