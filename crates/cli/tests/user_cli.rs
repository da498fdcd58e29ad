//! `taizhang user add | passwd | list` and `taizhang serve`: real processes on a SQLite file.

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
    let o = run(d, &["user", "add", "zhang", "--role", "boss", "--place", "坪溪村", "--password", "abcd1234"], "");
    assert!(!o.status.success() && text(&o).contains("「角色」"), "{}", text(&o));
    let o = run(d, &["user", "add", "zhang", "--role", "village_cadre", "--place", "坪溪村", "--password", "short"], "");
    assert!(!o.status.success() && text(&o).contains("至少 8 位"), "{}", text(&o));
    let o = run(d, &["user", "add", "zhang", "--role", "clerk", "--place", "坪溪村", "--ledgers", "nosuch", "--password", "abcd1234"], "");
    assert!(!o.status.success(), "{}", text(&o));
    // The password may come on standard input.
    let o = run(d, &["user", "add", "zhang", "--role", "village_cadre", "--place", "坪溪村", "--name", "张村干"], "abcd1234\n");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("首次登录须修改密码"));
    let o = run(d, &["user", "add", "zhang", "--role", "leader", "--place", "北斗溪镇", "--password", "abcd1234"], "");
    assert!(!o.status.success() && text(&o).contains("已存在"), "{}", text(&o));
    let list = text(&run(d, &["user", "list"], ""));
    assert!(list.contains("zhang") && list.contains("村干部") && list.contains("坪溪村"), "{list}");
    let json: serde_json::Value = serde_json::from_slice(&run(d, &["user", "list", "--json"], "").stdout).expect("json");
    assert_eq!(json[0]["role"], "village_cadre");
    assert!(json[0].get("password_hash").is_none(), "hashes never leave the database");
    let o = run(d, &["user", "passwd", "zhang"], "newpass99\n");
    assert!(o.status.success() && text(&o).contains("已重置"), "{}", text(&o));
    assert!(!run(d, &["user", "passwd", "nobody", "--password", "abcd1234"], "").status.success());
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
