//! Sign-in, sessions, CSRF, the first-sign-in password change, masking and audited reads,
//! through a real listener on SQLite and PostgreSQL.

mod common;

use common::{both, Server, PASSWORD};

fn sign_in_and_out(s: &Server) {
    let mut c = s.client();
    let r = c.post_form("/login", &[("username", "leader"), ("password", "wrong-pass1")]);
    assert_eq!(r.status, 401);
    assert!(r.body.contains("用户名或密码不正确"));
    assert!(c.cookie.is_empty(), "no session after a wrong password");
    let r = c.post_form("/login", &[("username", "leader"), ("password", PASSWORD), ("next", "/ledgers")]);
    assert_eq!(r.status, 303);
    assert_eq!(r.location, "/ledgers");
    assert!(!c.cookie.is_empty());
    // The database keeps only a hash of the token.
    let token = c.cookie.split_once('=').map(|(_, t)| t.to_string()).unwrap_or_default();
    assert_eq!(s.scalar(&format!("SELECT COUNT(*) FROM sessions WHERE token_hash = '{token}'")), 0);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM sessions"), 1);
    assert_eq!(c.get("/").status, 200);
    let r = c.agent.get(format!("{}/ledgers", s.base)).header("Cookie", &c.cookie).call().expect("get");
    for h in ["content-security-policy", "x-frame-options", "x-content-type-options"] {
        assert!(r.headers().contains_key(h), "{h} on every page");
    }
    assert_eq!(r.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    // An outside `next` is not followed.
    let mut d = s.client();
    assert_eq!(d.post_form("/login", &[("username", "leader"), ("password", PASSWORD), ("next", "//evil.example/")]).location, "/");
    // Sign-out ends the session on the server too.
    let stolen = c.cookie.clone();
    c.csrf = c.get("/api/v1/me").json()["csrf_token"].as_str().unwrap_or_default().to_string();
    assert_eq!(c.post_form("/logout", &[]).status, 303);
    let mut thief = s.client();
    thief.cookie = stolen;
    assert_eq!(thief.get("/api/v1/me").status, 401);
    // Sign-in and sign-out are in the audit trail.
    assert!(s.scalar("SELECT COUNT(*) FROM audit WHERE action IN ('sign_in', 'sign_out', 'sign_in_failed')") >= 4);
}

fn rate_limited(s: &Server) {
    let mut c = s.client();
    for _ in 0..5 {
        assert_eq!(c.post_form("/login", &[("username", "clerk"), ("password", "wrong-pass1")]).status, 401);
    }
    // Even the right password is refused while the account is locked.
    let r = c.post_form("/login", &[("username", "clerk"), ("password", PASSWORD)]);
    assert_eq!(r.status, 429);
    assert!(r.body.contains("账号已锁定"), "{}", r.body);
    // Other accounts are not locked by it.
    assert_eq!(c.post_form("/login", &[("username", "leader"), ("password", PASSWORD)]).status, 303);

}

/// Run last: it locks the test's only address (127.0.0.1) for everyone.
fn address_limited(s: &Server) {
    // Guessing across many accounts from one address is stopped too (20 failures in all).
    let mut c = s.client();
    let mut refused = None;
    for n in 0..20 {
        let r = c.post_form("/login", &[("username", &format!("guess{n}")), ("password", "wrong-pass1")]);
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 401);
    }
    assert!(refused.is_some_and(|r| r.body.contains("本机")), "the address is refused before 20 more guesses");
    assert_eq!(c.post_form("/login", &[("username", "admin"), ("password", PASSWORD)]).status, 429, "even a right password from it");
}

fn csrf_and_origin(s: &Server) {
    let mut c = s.signed_in("admin");
    let hazard = s.world.hazard_a;
    let before = s.fingerprint();
    let body = format!("_version=1&description={}", common::encode("改了"));
    // No token.
    let r = c.send("POST", &format!("/ledgers/hazards/{hazard}"), "application/x-www-form-urlencoded", &body, false);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("CSRF"));
    // A wrong token in the form.
    let r = c.send("POST", &format!("/ledgers/hazards/{hazard}"), "application/x-www-form-urlencoded", &format!("{body}&csrf=0000"), false);
    assert_eq!(r.status, 403);
    // The API without the header.
    let r = c.send("PUT", &format!("/api/v1/ledgers/hazards/records/{hazard}"), "application/json", r#"{"version":1,"values":{"description":"x"}}"#, false);
    assert_eq!(r.status, 403);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("CSRF")));
    // Another site, even with the token.
    c.origin = Some("http://evil.example".into());
    let r = c.send("POST", &format!("/ledgers/hazards/{hazard}"), "application/x-www-form-urlencoded", &body, true);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("跨站"));
    assert_eq!(before, s.fingerprint(), "refused writes changed nothing");
    // The token in the form field, from the same site, works.
    c.origin = Some(s.base.clone());
    let token = c.csrf.clone();
    let r = c.send("POST", &format!("/ledgers/hazards/{hazard}"), "application/x-www-form-urlencoded", &format!("{body}&csrf={token}"), false);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_ne!(before, s.fingerprint());
}

fn must_change_password(s: &Server) {
    let mut c = s.client();
    let r = c.post_form("/login", &[("username", "newbie"), ("password", PASSWORD)]);
    assert_eq!((r.status, r.location.as_str()), (303, "/password"));
    // Nothing else until the password is changed.
    let r = c.get("/ledgers");
    assert_eq!((r.status, r.location.as_str()), (303, "/password"));
    assert_eq!(c.get("/api/v1/persons").status, 403);
    c.csrf = c.get("/api/v1/me").json()["csrf_token"].as_str().unwrap_or_default().to_string();
    let r = c.post_form("/password", &[("current", PASSWORD), ("new", "short"), ("again", "short")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("至少 8 位"));
    let r = c.post_form("/password", &[("current", PASSWORD), ("new", "onlyletters"), ("again", "onlyletters")]);
    assert!(r.body.contains("字符种类不足"), "{}", r.body);
    let r = c.post_form("/password", &[("current", PASSWORD), ("new", "Newpass#99"), ("again", "Newpass#99")]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(c.get("/ledgers").status, 200);
    let hash = s.scalar("SELECT COUNT(*) FROM users WHERE username = 'newbie' AND password_hash LIKE '$argon2id$%' AND must_change_password = FALSE");
    assert_eq!(hash, 1);
    let mut again = s.client();
    assert_eq!(again.post_form("/login", &[("username", "newbie"), ("password", "Newpass#99")]).location, "/");
}

fn idle_sessions_expire(s: &Server) {
    let mut c = s.signed_in("leader");
    assert_eq!(c.get("/api/v1/me").status, 200);
    // As if the user had been away for two hours.
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("UPDATE sessions SET last_seen = $1", &[taizhang_storage::Arg::Time(taizhang_storage::now() - chrono::Duration::hours(2))]).await.expect("update");
        tx.commit().await.expect("commit");
    });
    assert_eq!(c.get("/api/v1/me").status, 401);
    // However active, a session ends a working day after sign-in.
    let mut busy = s.signed_in("leader");
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("UPDATE sessions SET created_at = $1", &[taizhang_storage::Arg::Time(taizhang_storage::now() - chrono::Duration::hours(13))]).await.expect("update");
        tx.commit().await.expect("commit");
    });
    assert_eq!(busy.get("/api/v1/me").status, 401);
    let r = c.get("/ledgers");
    assert_eq!(r.status, 303);
    assert!(r.location.starts_with("/login?next=/ledgers"));
}

fn masking_and_audited_reads(s: &Server) {
    let full = common::id_number(1);
    let masked = taizhang_domain::idcard::mask_id(&full);
    assert_eq!(masked.len(), 18);
    // 前1后1 (docs/personal-data.md): neither region nor birth date.
    assert!(masked.starts_with("4*") && masked.ends_with(&full[17..]) && masked.matches('*').count() == 16);
    let pa = s.world.person_a;
    for (user, sees) in [("admin", true), ("clerk", true), ("leader", false), ("cadre", false)] {
        let mut c = s.signed_in(user);
        let page = c.get(&format!("/persons/{pa}")).body;
        let api = c.get(&format!("/api/v1/persons/{pa}")).json();
        let search = c.get(&format!("/search?q={}", common::encode("张坪溪"))).body;
        if sees {
            assert!(page.contains(&full) && search.contains(&full), "{user} sees the full number");
            assert_eq!(api["id_number"], full.as_str());
        } else {
            assert!(!page.contains(&full) && page.contains(&masked), "{user} sees it masked");
            assert!(!search.contains(&full) && search.contains(&masked));
            assert_eq!(api["id_number"], masked.as_str());
        }
        // Lists of a person ledger show the subject's number the same way.
        let list = c.get("/ledgers/key_population").body;
        assert_eq!(list.contains(&full), sees, "{user} in the key population list");
    }
    // Exports follow the same rule: masked for the 领导, full for the 业务员.
    let leader_export = s.signed_in("leader").get("/ledgers/key_population/export?format=csv").body;
    assert!(leader_export.contains(&masked) && !leader_export.contains(&full), "{leader_export}");
    let clerk_export = s.signed_in("clerk").get("/ledgers/key_population/export?format=csv").body;
    assert!(clerk_export.contains(&full));
    // Opening a 重点人群 record is audited, by page and by API; opening a hazard is not.
    let reads = || s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'read' AND entity = 'ld_key_population'");
    let before = reads();
    let mut cadre = s.signed_in("cadre");
    assert_eq!(cadre.get(&format!("/ledgers/key_population/{}", s.world.keypop_a)).status, 200);
    assert_eq!(cadre.get(&format!("/api/v1/ledgers/key_population/records/{}", s.world.keypop_a)).status, 200);
    assert_eq!(reads(), before + 2);
    assert_eq!(s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'read' AND actor = 'cadre' AND entity = 'ld_hazards'"), 0);
    cadre.get(&format!("/ledgers/hazards/{}", s.world.hazard_a));
    assert_eq!(s.scalar("SELECT COUNT(*) FROM audit WHERE action = 'read' AND actor = 'cadre' AND entity = 'ld_hazards'"), 0);
}

fn forms_validate_inline(s: &Server) {
    let mut c = s.signed_in("cadre");
    let r = c.post_form("/ledgers/hazards/new", &[("_place", "坪溪村"), ("found_on", "2023-13-40"), ("industry", "燃气"), ("location", "1组")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("发现日期") && r.body.contains("class=\"error\""), "inline message under the field");
    assert!(r.body.contains("必须填写"), "required fields named");
    assert!(r.body.contains("value=\"1组\""), "the form keeps what was typed");
    let r = c.post_form("/ledgers/hazards/new", &[("_place", "坪溪村"), ("found_on", "2023-1-5"), ("industry", "燃气"), ("level", "一般"), ("location", "1组"), ("description", "液化气瓶无防倾倒")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = c.get(&r.location).body;
    assert!(page.contains("2023-01-05") && page.contains("液化气瓶无防倾倒"));
    assert!(page.contains("立即整改"), "the transitions the user may make");
    assert!(!page.contains("复查销号</summary>"), "复查销号 is for 业务员 and 领导, not for the 村干部");
    // The workflow by its button: 立即整改 needs 整改完成日期.
    let record = r.location.split('?').next().unwrap_or_default().to_string();
    let r = c.post_form(&format!("{record}/transition"), &[("_version", "1"), ("_transition", "fix_on_spot")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("整改完成日期"), "names the missing field");
    let r = c.post_form(&format!("{record}/transition"), &[("_version", "1"), ("_transition", "fix_on_spot"), ("rectified_on", "2023-1-6")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let page = c.get(&record).body;
    assert!(page.contains("已整改"), "the new state");
    assert!(page.contains("<td>办理</td>") && page.contains("立即整改：整改完成日期"), "the history shows the transition and what it filled");
    // 复查销号 belongs to the 领导 (and 业务员), who may make it though he edits nothing.
    let mut leader = s.signed_in("leader");
    let page = leader.get(&record).body;
    assert!(page.contains("复查销号") && !page.contains("id=\"edit\""), "the 领导 sees the button, not the edit form");
    let r = leader.post_form(&format!("{record}/transition"), &[("_version", "2"), ("_transition", "close"), ("review_on", "2023-1-8"), ("reviewer", "李镇长")]);
    assert_eq!(r.status, 422, "the 领导 reaches the transition; its rules still apply: {}", r.body);
    assert!(r.body.contains("干部「李镇长」未登记"));
    // A second save with an old version is refused, naming who changed it.
    let r = c.post_form(&record, &[("_version", "1"), ("location", "2组")]);
    assert_eq!(r.status, 409);
    assert!(r.body.contains("已被「cadre」"), "{}", r.body);
    // A 村干部 registers a villager, then records them in a person ledger by ID number.
    let r = c.post_form("/persons/new", &[("name", "王新"), ("id_number", "431224198001011235"), ("place", "坪溪村")]);
    assert_eq!(r.status, 422);
    assert!(r.body.contains("class=\"error\"") && r.body.contains("value=\"王新\""), "inline, keeping what was typed");
    let number = common::id_number(55);
    let r = c.post_form("/persons/new", &[("name", "王新"), ("id_number", &number), ("place", "坪溪村")]);
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c.post_form("/ledgers/key_population/new", &[("_subject", &number), ("category", "刑满释放人员"), ("listed_on", "2023-5-1")]);
    assert_eq!(r.status, 303, "{}", r.body);
    // Malformed requests are refused in Chinese, not with the framework's English.
    let r = c.get("/ledgers/hazards/abc");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("请求有误") && !r.body.contains("Invalid"), "{}", r.body);
    let r = c.send("POST", "/api/v1/ledgers/hazards/records", "application/json", "{not json", true);
    assert_eq!(r.status, 400);
    assert!(r.json()["error"].as_str().is_some_and(|e| e.contains("请求有误")), "{}", r.body);
    let r = c.get("/api/v1/ledgers/hazards/records?limit=many");
    assert!(r.status == 400 && r.json()["error"].is_string(), "{}", r.body);
    // The JSON API reports field errors in Chinese too.
    let r = c.post_json("/api/v1/ledgers/hazards/records", &serde_json::json!({"place": "坪溪村", "values": {"found_on": "昨天"}}));
    assert_eq!(r.status, 422);
    assert!(r.json()["fields"].as_array().is_some_and(|f| f.iter().any(|e| e["label"] == "发现日期")), "{}", r.body);
}

#[test]
fn sign_in_sessions_and_csrf() {
    both(|s| {
        sign_in_and_out(s);
        rate_limited(s);
        csrf_and_origin(s);
        must_change_password(s);
        idle_sessions_expire(s);
        address_limited(s);
    });
}

/// The user, scope and place behind a session are kept in memory between requests; the session
/// itself is not: ending it anywhere (sign-out, a password reset, another process deleting the
/// row) refuses the very next request, and confinement holds for what is kept.
fn sessions_end_at_once_while_cached(s: &Server) {
    let mut a = s.signed_in("clerk");
    let mut b = s.signed_in("clerk");
    for _ in 0..3 {
        assert_eq!(a.get("/ledgers/hazards").status, 200);
        assert_eq!(b.get("/").status, 200);
    }
    // Another process (the CLI, a second server) deletes b's session row; no audit row is written.
    let token = b.cookie.split_once('=').map(|(_, t)| t.to_string()).unwrap_or_default();
    let hash = taizhang_web::auth::token_hash(&token);
    let db = s.db.clone();
    s.rt.block_on(async move {
        let mut tx = db.begin().await.expect("begin");
        tx.exec("DELETE FROM sessions WHERE token_hash = $1", &[hash.as_str().into()]).await.expect("delete");
        tx.commit().await.expect("commit");
    });
    assert_eq!(b.get("/api/v1/me").status, 401);
    assert_eq!(a.get("/api/v1/me").status, 200);
    // The village cadre's list shows their own village only, in rows and in the filter.
    let mut cadre = s.signed_in("cadre");
    for _ in 0..2 {
        let r = cadre.get("/ledgers/hazards");
        assert_eq!(r.status, 200);
        assert!(r.body.contains("坪溪村") && !r.body.contains("金竹村"), "{}", r.body);
    }
    let r = s.signed_in("leader").get("/ledgers/hazards");
    assert!(r.body.contains("坪溪村") && r.body.contains("金竹村"));
    // An administrator resets the clerk's password: the clerk's session ends at once.
    let mut admin = s.signed_in("admin");
    let clerk = s.world.users["clerk"];
    assert_eq!(admin.post_form(&format!("/admin/users/{clerk}/password"), &[("password", "Reset#2024x")]).status, 200);
    assert_eq!(a.get("/api/v1/me").status, 401);
    assert_eq!(a.get("/ledgers/hazards").status, 303);
}

#[test]
fn sessions_end_at_once() {
    both(sessions_end_at_once_while_cached);
}

#[test]
fn masking_audit_and_forms() {
    both(|s| {
        masking_and_audited_reads(s);
        forms_validate_inline(s);
    });
}

#[test]
fn openapi_describes_every_api_route() {
    let doc = taizhang_web::openapi::document();
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for r in taizhang_web::routes::ROUTES.iter().filter(|r| r.is_api()) {
        let p = r.path.trim_start_matches("/api/v1");
        assert!(paths.get(p).and_then(|e| e.get(r.method.to_ascii_lowercase())).is_some(), "{} {}", r.method, r.path);
    }
    assert_eq!(doc["openapi"], "3.0.3");
}
