//! `taizhang user …` in a county database (issue 20): the console keeps accounts at the county;
//! with `--as`, a user keeps accounts as on the users page — only a 系统管理员, only within their
//! scope (a town's administrator makes or changes no account at the county or in another town),
//! and no 安全管理员's or 审计管理员's account.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang")).current_dir(dir).env("TAIZHANG_DB", "t.db").args(args).output().expect("run taizhang")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const PW: &str = "Tz#2024-beidou";

#[test]
fn county_accounts_from_the_console_and_a_town_administrator_kept_to_its_town() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    assert!(run(d, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]).status.success());
    let o = run(d, &["place", "add", "--parent", "溆浦县", "--name", "低庄镇", "--code", "431224111000"]);
    assert!(o.status.success(), "{}", text(&o));
    // The console: accounts at the county, by name or by code, a line clerk with its ledgers.
    for (name, role, place) in [("county_admin", "admin", "溆浦县"), ("county_leader", "leader", "431224000000"), ("town_admin", "admin", "北斗溪镇"), ("town_leader", "leader", "北斗溪镇"), ("b_leader", "leader", "低庄镇")] {
        let o = run(d, &["user", "add", name, "--role", role, "--place", place, "--password", PW]);
        assert!(o.status.success(), "{name}: {}", text(&o));
    }
    let o = run(d, &["user", "add", "minzheng", "--role", "clerk", "--place", "溆浦县", "--ledgers", "dibao,dibao_payments", "--password", PW]);
    assert!(text(&o).contains("管辖 溆浦县"), "{}", text(&o));

    // A town's administrator: not at the county, not in another town, not the county's accounts.
    for place in ["溆浦县", "431224000000", "低庄镇"] {
        let o = run(d, &["--as", "town_admin", "user", "add", "sneak", "--role", "clerk", "--place", place, "--password", PW]);
        assert!(!o.status.success() && text(&o).contains("不在您的管辖范围内"), "{place}: {}", text(&o));
    }
    for args in [vec!["user", "passwd", "county_leader", "--password", "Hs8!kq2mWz"], vec!["user", "role", "b_leader", "--role", "clerk"], vec!["user", "disable", "county_admin"]] {
        let mut full = vec!["--as", "town_admin"];
        full.extend(args.iter());
        let o = run(d, &full);
        assert!(!o.status.success() && text(&o).contains("不存在"), "{args:?}: {}", text(&o));
    }
    let list = text(&run(d, &["--as", "town_admin", "user", "list"]));
    assert!(list.contains("town_leader") && !list.contains("county_leader") && !list.contains("b_leader"), "{list}");
    // Within its town, as on the users page; a leader keeps no accounts, nor the 三员's by --as.
    assert!(run(d, &["--as", "town_admin", "user", "add", "wang", "--role", "clerk", "--place", "北斗溪镇", "--password", PW]).status.success());
    let o = run(d, &["--as", "town_leader", "user", "add", "li", "--role", "clerk", "--place", "北斗溪镇", "--password", PW]);
    assert!(!o.status.success() && text(&o).contains("只有系统管理员"), "{}", text(&o));
    let o = run(d, &["--as", "town_admin", "user", "add", "sec", "--role", "security_admin", "--place", "北斗溪镇", "--password", PW]);
    assert!(!o.status.success(), "{}", text(&o));

    // The county's administrator keeps both towns' accounts.
    assert!(run(d, &["--as", "county_admin", "user", "add", "b_clerk", "--role", "clerk", "--place", "低庄镇", "--password", PW]).status.success());
    assert!(run(d, &["--as", "county_admin", "user", "disable", "b_leader"]).status.success());
    let list = text(&run(d, &["--as", "county_admin", "user", "list"]));
    assert!(list.contains("town_leader") && list.contains("b_clerk") && list.contains("minzheng"), "{list}");
    // Nothing was made outside the rules.
    let all = text(&run(d, &["user", "list"]));
    assert!(!all.contains("sneak") && !all.contains("\tli\t") && !all.contains("sec\t"), "{all}");
}
