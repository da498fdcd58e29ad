//! `taizhang user add | passwd | list | role | disable | enable | unlock` and `taizhang serve`:
//! real processes on a SQLite file.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .current_dir(dir)
        .env("TAIZHANG_DB", "t.db")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run taizhang");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("wait")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn users_are_added_listed_and_reset_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    assert!(run(d, &["init", "--town", "北斗溪镇", "--code", "431224110000"], "").status.success());
    assert!(run(d, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村", "--code", "431224110201"], "").status.success());
    // Refusals name the field and the reason, in Chinese.
    let o = run(d, &["user", "add", "zhang", "--role", "boss", "--place", "坪溪村", "--password", "Tz#2024-beidou"], "");
    assert!(!o.status.success() && text(&o).contains("「角色」"), "{}", text(&o));
    let o = run(d, &["user", "add", "zhang", "--role", "village_cadre", "--place", "坪溪村", "--password", "short"], "");
    assert!(!o.status.success() && text(&o).contains("至少 8 位"), "{}", text(&o));
    // The security policy: classes, the user name, common passwords, each rule named.
    let o = run(d, &["user", "add", "zhang", "--role", "village_cadre", "--place", "坪溪村", "--password", "password1"], "");
    assert!(!o.status.success() && text(&o).contains("字符种类不足") && text(&o).contains("常见的弱密码"), "{}", text(&o));
    let o = run(d, &["user", "add", "zhang", "--role", "village_cadre", "--place", "坪溪村", "--password", "Zhang#2024"], "");
    assert!(!o.status.success() && text(&o).contains("不能包含用户名「zhang」"), "{}", text(&o));
    let o = run(d, &["user", "add", "zhang", "--role", "clerk", "--place", "坪溪村", "--ledgers", "nosuch", "--password", "Tz#2024-beidou"], "");
    assert!(!o.status.success(), "{}", text(&o));
    // The password may come on standard input.
    let o = run(d, &["user", "add", "zhang", "--role", "village_cadre", "--place", "坪溪村", "--name", "张村干"], "Tz#2024-beidou\n");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("首次登录须修改密码"));
    let o = run(d, &["user", "add", "zhang", "--role", "leader", "--place", "北斗溪镇", "--password", "Tz#2024-beidou"], "");
    assert!(!o.status.success() && text(&o).contains("已存在"), "{}", text(&o));
    let list = text(&run(d, &["user", "list"], ""));
    assert!(list.contains("zhang") && list.contains("村干部") && list.contains("坪溪村"), "{list}");
    let json: serde_json::Value = serde_json::from_slice(&run(d, &["user", "list", "--json"], "").stdout).expect("json");
    assert_eq!(json[0]["role"], "village_cadre");
    assert!(json[0].get("password_hash").is_none(), "hashes never leave the database");
    let o = run(d, &["user", "passwd", "zhang"], "Hs8!kq2mWz\n");
    assert!(o.status.success() && text(&o).contains("已重置"), "{}", text(&o));
    assert!(!run(d, &["user", "passwd", "nobody", "--password", "Hs8!kq2mWz"], "").status.success());
}

/// 三员分立 at the console: the three administrators' accounts are made and their roles given
/// here; accounts are disabled, enabled and unlocked; with `--as`, only the 审计管理员 reads the
/// audit trail.
#[test]
fn administrators_roles_and_account_states_from_the_command_line() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    assert!(run(d, &["init", "--town", "北斗溪镇", "--code", "431224110000"], "").status.success());
    for (name, role) in [("sys", "admin"), ("sec", "security_admin"), ("aud", "审计管理员"), ("li", "leader")] {
        let o = run(d, &["user", "add", name, "--role", role, "--place", "北斗溪镇", "--password", "Tz#2024-beidou"], "");
        assert!(o.status.success(), "{}", text(&o));
    }
    let list = text(&run(d, &["user", "list"], ""));
    assert!(list.contains("系统管理员") && list.contains("安全管理员") && list.contains("审计管理员"), "{list}");
    // The audit trail: the 审计管理员 reads it, the 系统管理员 does not.
    let o = run(d, &["--as", "aud", "audit", "--limit", "5"], "");
    assert!(o.status.success() && text(&o).contains("users"), "{}", text(&o));
    let o = run(d, &["--as", "sys", "audit"], "");
    assert!(!o.status.success() && text(&o).contains("只有审计管理员可以查看"), "{}", text(&o));
    // A role changed, audited.
    let o = run(d, &["user", "role", "li", "--role", "audit_admin"], "");
    assert!(o.status.success() && text(&o).contains("由领导改为审计管理员"), "{}", text(&o));
    assert!(run(d, &["--as", "li", "audit"], "").status.success());
    assert!(!run(d, &["user", "role", "li", "--role", "boss"], "").status.success());
    // Disabled: it can no longer act; enabled again.
    let o = run(d, &["user", "disable", "li"], "");
    assert!(o.status.success() && text(&o).contains("已停用"), "{}", text(&o));
    assert!(text(&run(d, &["user", "list"], "")).contains("停用"));
    let o = run(d, &["--as", "li", "audit"], "");
    assert!(!o.status.success() && text(&o).contains("已停用"), "{}", text(&o));
    assert!(run(d, &["user", "enable", "li"], "").status.success());
    assert!(run(d, &["--as", "li", "audit"], "").status.success());
    // The security policy: set by the 安全管理员 (or the operator), within its range.
    let o = run(d, &["--as", "sys", "setting", "set", "密码最短长度", "10"], "");
    assert!(!o.status.success() && text(&o).contains("只能由安全管理员设置"), "{}", text(&o));
    let o = run(d, &["--as", "sec", "setting", "set", "密码最短长度", "6"], "");
    assert!(!o.status.success() && text(&o).contains("应在 8 到 64 之间"), "{}", text(&o));
    let o = run(d, &["--as", "sec", "setting", "set", "密码最短长度", "10"], "");
    assert!(o.status.success(), "{}", text(&o));
    let o = run(d, &["user", "add", "wang", "--role", "clerk", "--place", "北斗溪镇", "--password", "Tz#2024-b"], "");
    assert!(!o.status.success() && text(&o).contains("至少 10 位"), "{}", text(&o));
    let o = run(d, &["--as", "sec", "setting", "set", "特困与低保可同时享受", "2024", "是"], "");
    assert!(!o.status.success() && text(&o).contains("只能由系统管理员设置"), "{}", text(&o));
    // Unlocked: a lock set by failed sign-ins is lifted.
    let conn = update_db(d, "UPDATE users SET failed_attempts = 5, locked_until = '2999-01-01T00:00:00.000Z' WHERE username = 'sec'");
    assert!(conn, "the lock written");
    assert!(text(&run(d, &["user", "list"], "")).contains("锁定至 2999"));
    let o = run(d, &["user", "unlock", "sec"], "");
    assert!(o.status.success() && text(&o).contains("已解除 sec 的锁定"), "{}", text(&o));
    assert!(!text(&run(d, &["user", "list"], "")).contains("锁定至"));
    let audit = text(&run(d, &["--as", "aud", "audit", "--limit", "20"], ""));
    assert!(audit.contains("unlock") && audit.contains("disable") && audit.contains("enable"), "{audit}");
}

/// Writes to the test's database through the storage crate (no SQLite tool needed).
fn update_db(dir: &Path, sql: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let path = dir.join("t.db").display().to_string();
    rt.block_on(async move {
        let db = taizhang_storage::Db::open(&path).await.expect("open");
        let mut tx = db.begin().await.expect("begin");
        tx.exec(sql, &[]).await.expect("update");
        tx.commit().await.is_ok()
    })
}

#[test]
fn serve_refuses_plain_http_away_from_loopback() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    assert!(run(d, &["init", "--town", "北斗溪镇", "--code", "431224110000"], "").status.success());
    let o = run(d, &["serve", "--listen", "0.0.0.0:0"], "");
    assert!(!o.status.success());
    let msg = text(&o);
    assert!(msg.contains("明文 HTTP") && msg.contains("--allow-http") && msg.contains("--tls-cert"), "{msg}");
    // A certificate without its key is refused by the arguments.
    let o = run(d, &["serve", "--listen", "0.0.0.0:0", "--tls-cert", "cert.pem"], "");
    assert!(!o.status.success());
    let o = run(d, &["serve", "--listen", "0.0.0.0:0", "--tls-cert", "cert.pem", "--tls-key", "key.pem"], "");
    assert!(!o.status.success() && text(&o).contains("无法读取证书文件"), "{}", text(&o));
}

#[test]
fn serve_refuses_an_address_in_use_in_chinese() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    assert!(run(d, &["init", "--town", "北斗溪镇", "--code", "431224110000"], "").status.success());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let o = run(d, &["serve", "--listen", &addr], "");
    assert!(!o.status.success());
    let mut msg = text(&o);
    msg.truncate(msg.len().min(400));
    assert!(msg.contains("无法监听地址"), "{msg}");
}
