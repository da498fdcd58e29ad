//! 等保2.0 level 3 through a real listener on SQLite and PostgreSQL: the three administrators
//! each limited to their own work (三员分立), the password policy (rules named in Chinese,
//! history, expiry forcing a change) set by the 安全管理员, the current password checked under
//! the lockout, accounts disabled, enabled and unlocked, and the last sign-in shown.

mod common;

use common::{both, Client, Server, PASSWORD};

fn sign_in(s: &Server, user: &str, password: &str) -> (Client, u16, String) {
    let mut c = s.client();
    let r = c.post_form("/login", &[("username", user), ("password", password)]);
    if r.status == 303 {
        c.csrf = c.get("/api/v1/me").json()["csrf_token"].as_str().unwrap_or_default().to_string();
    }
    (c, r.status, if r.status == 303 { r.location } else { r.body })
}

fn three_administrators(s: &Server) {
    // The 审计管理员 reads and exports the audit trail, and nothing else.
    s.signed_in("leader");
    let mut auditor = s.signed_in("auditor");
    let r = auditor.get("/");
    assert_eq!((r.status, r.location.as_str()), (303, "/audit"), "the auditor's home is the audit trail");
    let page = auditor.get("/audit");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("登录") && page.body.contains("导出 CSV"), "{}", page.body);
    assert!(!page.body.contains("href=\"/ledgers/") && !page.body.contains("action=\"/search\""), "no data menus for the auditor");
    let csv = auditor.get("/audit/export?actor=leader");
    assert_eq!(csv.status, 200);
    assert!(csv.content_type.starts_with("text/csv") && csv.body.starts_with("\u{feff}编号,时间,操作人"), "{}", csv.body);
    let rows: Vec<&str> = csv.body.lines().skip(1).collect();
    assert!(!rows.is_empty() && rows.iter().all(|l| l.contains("\"leader\"")), "the leader's entries only: {}", csv.body);
    assert!(s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'export' AND entity = 'audit' AND actor = 'auditor'") >= 1, "the export is audited");
    assert_eq!(auditor.get("/api/v1/audit").status, 200);
    for refused in ["/ledgers", "/ledgers/hazards", "/search?q=x", "/cadres", "/checks", "/reports", "/admin/users", "/admin/settings", "/admin/security", "/admin/ledgers", "/import", "/api/v1/persons", "/api/v1/ledgers"] {
        assert_eq!(auditor.get(refused).status, 403, "the auditor: {refused}");
    }
    assert_eq!(auditor.post_json("/api/v1/ledgers/hazards/records", &serde_json::json!({"place": "坪溪村", "values": {}})).status, 403);
    assert_eq!(auditor.get("/password").status, 200, "his own password");
    // The 系统管理员 keeps users and definitions but cannot read the audit trail.
    let mut admin = s.signed_in("admin");
    for refused in ["/audit", "/audit/export", "/api/v1/audit", "/admin/security"] {
        assert_eq!(admin.get(refused).status, 403, "the system administrator: {refused}");
    }
    assert_eq!(admin.get("/admin/users").status, 200);
    assert!(!admin.get("/").body.contains("href=\"/audit\""), "no audit link for him");
    // He cannot make himself (or anyone) an auditor through the web, nor take over the
    // auditor's account.
    let town = s.scalar("SELECT id FROM places WHERE level = 'town'").to_string();
    let r = admin.post_form("/admin/users", &[("username", "myaudit"), ("role", "audit_admin"), ("place", &town), ("password", "Tz#2024-beidou")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("只能在服务器上用命令行新增"), "{}", r.body);
    let auditor_id = s.world.users["auditor"];
    let r = admin.post_form(&format!("/admin/users/{auditor_id}/password"), &[("password", "Tz#2024-beidou")]);
    assert_eq!(r.status, 403);
    assert_eq!(admin.post_form(&format!("/admin/users/{auditor_id}/disable"), &[]).status, 403);
    assert_eq!(admin.post_form(&format!("/admin/users/{}/disable", s.world.users["admin"]), &[]).status, 403, "not himself");
    // Nor set the security policy; the 安全管理员 sets nothing else.
    let r = admin.put_json("/api/v1/settings", &serde_json::json!({"setting": "密码最短长度", "value": "12"}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("只能由安全管理员设置"), "{}", r.body);
    assert!(!admin.get("/admin/settings").body.contains("密码最短长度"), "the settings page leaves the policy out");
    // The 安全管理员 sets the policy, and sees no data.
    let mut security = s.signed_in("security");
    let r = security.get("/");
    assert_eq!((r.status, r.location.as_str()), (303, "/admin/security"));
    let page = security.get("/admin/security").body;
    assert!(page.contains("密码最短长度") && page.contains("登录失败锁定次数") && page.contains("密码有效期"), "{page}");
    for refused in ["/ledgers", "/audit", "/admin/users", "/admin/settings", "/api/v1/persons"] {
        assert_eq!(security.get(refused).status, 403, "the security administrator: {refused}");
    }
    let r = security.put_json("/api/v1/settings", &serde_json::json!({"setting": "防返贫监测标准（家庭人均纯收入）", "year": 2024, "value": "6800"}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("只能由系统管理员设置"));
    let r = security.post_form("/admin/security", &[("setting", "密码最短长度"), ("value", "6")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("应在 8 到 64 之间"), "{}", r.body);
    let r = security.post_form("/admin/security", &[("setting", "密码最短长度"), ("value", "12")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(s.scalar("SELECT COUNT(*) FROM audit WHERE entity = 'settings' AND actor = 'security' AND note = '密码最短长度'") == 1, "audited");
    // The new length holds at once, for initial passwords and changes.
    let r = admin.post_form("/admin/users", &[("username", "wangkj"), ("role", "clerk"), ("place", &town), ("password", "Tz#2024-bd")]);
    assert!(r.status == 422 && r.body.contains("至少 12 位"), "{}", r.body);
    let r = security.put_json("/api/v1/settings", &serde_json::json!({"setting": "密码最短长度", "value": "8"}));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn three_administrators_each_limited() {
    both(three_administrators);
}

fn password_policy_history_and_expiry(s: &Server) {
    let mut clerk = s.signed_in("clerk");
    let change = |c: &mut Client, current: &str, new: &str| c.post_form("/password", &[("current", current), ("new", new), ("again", new)]);
    // Weak passwords refused, each rule named.
    let r = change(&mut clerk, PASSWORD, "password1");
    assert_eq!(r.status, 422);
    assert!(r.body.contains("字符种类不足") && r.body.contains("常见的弱密码"), "{}", r.body);
    let r = change(&mut clerk, PASSWORD, "Clerk2024!");
    assert!(r.body.contains("不能包含用户名「clerk」"), "{}", r.body);
    let r = change(&mut clerk, PASSWORD, "P@ssw0rd2024");
    assert!(r.body.contains("常见的弱密码"), "{}", r.body);
    // History: the last five passwords (the current one included) cannot come back.
    let passwords = ["Tz#2024-beidou", "Hs8!kq2mWz", "Ye7$north-hill"];
    let mut current = PASSWORD.to_string();
    for p in passwords {
        let r = change(&mut clerk, &current, p);
        assert_eq!(r.status, 303, "{p}: {}", r.body);
        current = p.to_string();
    }
    let r = change(&mut clerk, &current, passwords[0]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("不能与最近 5 次用过的密码相同"), "{}", r.body);
    let r = change(&mut clerk, &current, &current);
    assert!(r.body.contains("最近 5 次"), "the current one is in the history");
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM password_history WHERE user_id = {}", s.world.users["clerk"])), 3);
    // Expiry: a password older than 90 days must be changed before anything else.
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("UPDATE users SET password_changed_at = $1 WHERE username = 'leader'", &[taizhang_storage::Arg::Time(taizhang_storage::now() - chrono::Duration::days(91))]).await.expect("update");
        tx.commit().await.expect("commit");
    });
    let (mut leader, status, to) = sign_in(s, "leader", PASSWORD);
    assert_eq!((status, to.as_str()), (303, "/password"), "sent to change it at sign-in");
    let r = leader.get("/ledgers");
    assert_eq!((r.status, r.location.as_str()), (303, "/password"));
    assert_eq!(leader.get("/api/v1/persons").status, 403);
    assert!(leader.get("/password").body.contains("已使用超过 90 天"));
    assert_eq!(change(&mut leader, PASSWORD, "Tz#2024-lingdao").status, 303);
    assert_eq!(leader.get("/ledgers").status, 200, "changed: free again");
    // With expiry switched off by the 安全管理员, an old password is not forced.
    let mut security = s.signed_in("security");
    assert_eq!(security.post_form("/admin/security", &[("setting", "密码有效期"), ("value", "0")]).status, 303);
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("UPDATE users SET password_changed_at = $1 WHERE username = 'cadre'", &[taizhang_storage::Arg::Time(taizhang_storage::now() - chrono::Duration::days(400))]).await.expect("update");
        tx.commit().await.expect("commit");
    });
    assert_eq!(sign_in(s, "cadre", PASSWORD).2, "/");
}

#[test]
fn password_policy_history_and_expiry_on_sqlite_and_postgres() {
    both(password_policy_history_and_expiry);
}

fn accounts_locked_disabled_unlocked(s: &Server) {
    // The current password on a change is guessed under the same lockout as a sign-in.
    let mut cadre = s.signed_in("cadre");
    let checks = s.state.hasher.checks();
    for i in 0..5 {
        let r = cadre.post_form("/password", &[("current", &format!("Guess#{i}x1")), ("new", "Tz#2024-cungan"), ("again", "Tz#2024-cungan")]);
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("「当前密码」不正确"));
    }
    let r = cadre.post_form("/password", &[("current", PASSWORD), ("new", "Tz#2024-cungan"), ("again", "Tz#2024-cungan")]);
    assert_eq!(r.status, 429, "even the right current password, once locked: {}", r.body);
    assert!(r.body.contains("账号已锁定"));
    assert_eq!(s.state.hasher.checks() - checks, 5);
    let (_, status, body) = sign_in(s, "cadre", PASSWORD);
    assert_eq!(status, 429, "the sign-in is locked too: {body}");
    // The 安全管理员 sees it and unlocks it.
    let mut security = s.signed_in("security");
    let page = security.get("/admin/security").body;
    assert!(page.contains("cadre") && page.contains("已锁定至"), "{page}");
    let cadre_id = s.world.users["cadre"];
    let r = security.post_form(&format!("/admin/users/{cadre_id}/unlock"), &[]);
    assert_eq!((r.status, r.location.as_str()), (303, "/admin/security?done=unlock"));
    assert!(s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'unlock' AND actor = 'security'") == 1);
    let (_, status, to) = sign_in(s, "cadre", PASSWORD);
    assert_eq!((status, to.as_str()), (303, "/"));
    // Locked by wrong sign-ins; the 系统管理员 unlocks from the users page.
    for _ in 0..5 {
        assert_eq!(sign_in(s, "clerk", "Wrong#pass1").1, 401);
    }
    let mut admin = s.signed_in("admin");
    let page = admin.get("/admin/users").body;
    assert!(page.contains("已锁定") && page.contains(&format!("/admin/users/{}/unlock", s.world.users["clerk"])), "{page}");
    assert_eq!(admin.post_form(&format!("/admin/users/{}/unlock", s.world.users["clerk"]), &[]).status, 303);
    let (mut clerk, status, _) = sign_in(s, "clerk", PASSWORD);
    assert_eq!(status, 303);
    // Disabled: the session ends at once and the right password no longer signs in.
    let clerk_id = s.world.users["clerk"];
    let r = admin.post_form(&format!("/admin/users/{clerk_id}/disable"), &[]);
    assert_eq!((r.status, r.location.as_str()), (303, "/admin/users?done=disabled"));
    assert_eq!(clerk.get("/api/v1/me").status, 401);
    let (_, status, body) = sign_in(s, "clerk", PASSWORD);
    assert_eq!(status, 403);
    assert!(body.contains("该账号已停用"), "{body}");
    let (_, status, body) = sign_in(s, "clerk", "Wrong#pass1");
    assert!(status == 401 && body.contains("用户名或密码不正确"), "a wrong password does not tell it is disabled");
    assert!(admin.get("/admin/users?done=disabled").body.contains("已停用该账号"));
    assert_eq!(admin.post_form(&format!("/admin/users/{clerk_id}/enable"), &[]).status, 303);
    assert_eq!(sign_in(s, "clerk", PASSWORD).1, 303);
    assert!(s.scalar("SELECT COUNT(*) FROM audit WHERE action IN ('disable', 'enable') AND actor = 'admin'") == 2);
    // The security administrator does not disable (the 系统管理员 keeps accounts).
    assert_eq!(security.post_form(&format!("/admin/users/{clerk_id}/disable"), &[]).status, 403);
}

#[test]
fn accounts_locked_disabled_and_unlocked() {
    both(accounts_locked_disabled_unlocked);
}

fn last_sign_in_shown(s: &Server) {
    let (mut first, _, _) = sign_in(s, "leader", PASSWORD);
    assert!(!first.get("/").body.contains("上次登录"), "nothing before the first sign-in");
    assert_eq!(sign_in(s, "leader", "Wrong#pass1").1, 401);
    let (mut second, _, _) = sign_in(s, "leader", PASSWORD);
    let page = second.get("/").body;
    assert!(page.contains("上次登录") && page.contains("来自 127.0.0.1") && page.contains("此后登录失败 1 次"), "{page}");
    // The officers see theirs on their own pages.
    sign_in(s, "auditor", PASSWORD);
    let (mut auditor, _, _) = sign_in(s, "auditor", PASSWORD);
    assert!(auditor.get("/audit").body.contains("上次登录"));
}

#[test]
fn the_last_sign_in_is_shown() {
    both(last_sign_in_shown);
}
