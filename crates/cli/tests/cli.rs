//! The binary as a clerk runs it: real processes, a real SQLite file, and PostgreSQL when
//! `TAIZHANG_TEST_PG` is set.

mod common;
use common::{ok, on_postgres, on_sqlite, run};

use std::path::Path;
use std::process::Command;

/// Everything a user could see of the database, to prove a refused command changed nothing.
fn fingerprint(dir: &Path, db: &str) -> String {
    let audit = ok(dir, db, &["audit", "--limit", "100000", "--json"]);
    let people = ok(dir, db, &["person", "search", "", "--json"]);
    let places = ok(dir, db, &["place", "list", "--json"]);
    format!("{audit}\n{people}\n{places}")
}

fn story(dir: &Path, db: &str) {
    let out = ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    assert!(out.contains("北斗溪镇"), "{out}");
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村", "--code", "431224110201", "--attr", "脱贫村"]);
    let out = ok(dir, db, &["person", "add", "--name", "张三", "--id-number", "11010519491231002x", "--place", "坪溪村"]);
    assert!(out.contains("1949-12-31"), "{out}");

    let before = fingerprint(dir, db);
    let refusals: &[(&[&str], &str)] = &[
        (&["person", "add", "--name", "李四", "--id-number", "11010519491231002X", "--place", "坪溪村"], "已登记"),
        (&["person", "add", "--name", "王五", "--id-number", "4.31224E+17", "--place", "坪溪村"], "Excel"),
        (&["person", "add", "--name", "王五", "--id-number", "110105194912310021", "--place", "坪溪村"], "校验"),
        (&["person", "add", "--name", "", "--id-number", "11010519491231002X", "--place", "坪溪村"], "姓名"),
        (&["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村"], "已有"),
        (&["place", "add", "--parent", "北斗溪镇", "--name", "新村", "--code", "12ab"], "区划代码"),
        (&["record", "add", "hazards", "--place", "坪溪村", "level=特大"], "等级"),
        (&["record", "add", "nosuch"], "不存在"),
        (&["init", "--town", "北斗溪镇", "--code", "431224110000"], "无需重复"),
    ];
    for (args, want) in refusals {
        let o = run(dir, db, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(err.contains("错误") && err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{args:?}: {err}");
        assert_eq!(fingerprint(dir, db), before, "{args:?} changed the database");
    }

    // `ledgers --json`: key, name, fields and workflow for each ledger.
    let json: serde_json::Value = serde_json::from_str(&ok(dir, db, &["ledgers", "--json"])).expect("json");
    let list = json.as_array().expect("array");
    assert!(list.len() >= 30, "{} ledgers", list.len());
    for l in list {
        assert!(l["key"].is_string() && l["name"].is_string() && l["fields"].is_array(), "{l}");
    }
    let hazards = list.iter().find(|l| l["key"] == "hazards").expect("hazards");
    assert!(hazards["workflow"]["transitions"].as_array().is_some_and(|t| !t.is_empty()));

    // Settings keep their own units: days and switches as integers, the 监测标准 in 元,
    // a target in its indicator's unit; a setting is named by its key or its Chinese label,
    // and listed by label, never by key; an unknown indicator is refused.
    ok(dir, db, &["setting", "set", "check:visit_days", "2023", "30"]);
    ok(dir, db, &["setting", "set", "特困与低保可同时享受", "2023", "是"]);
    let out = ok(dir, db, &["setting", "set", "防返贫监测标准（家庭人均纯收入）", "2023", "6800"]);
    assert!(out.contains("6,800.00 元/人·年"), "{out}");
    ok(dir, db, &["setting", "set", "target:hazards_gas", "2023", "4"]);
    let listed = ok(dir, db, &["setting", "list"]);
    for line in ["监测户走访间隔上限\t2023 年 30 天", "特困与低保可同时享受\t2023 年 是", "防返贫监测标准（家庭人均纯收入）\t2023 年 6,800.00 元/人·年", "2023 年 4"] {
        assert!(listed.contains(line), "{line} in {listed}");
    }
    for key in ["check:", "rule:", "monitoring_line", "target:"] {
        assert!(!listed.contains(key), "the key {key} shown in {listed}");
    }
    let o = run(dir, db, &["setting", "set", "防返贫监测标准（家庭人均纯收入）", "6800"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("年度"), "a yearly setting needs its year");
    let o = run(dir, db, &["setting", "set", "监测户走访间隔上限", "2023", "-3"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("负数"));
    let o = run(dir, db, &["setting", "set", "target:nosuch", "2023", "1"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("没有指标"));
}

#[test]
fn cli_on_sqlite() {
    on_sqlite(story);
}

#[test]
fn cli_on_postgres() {
    on_postgres("main", story);
}

#[test]
fn help_is_chinese() {
    let out = Command::new(env!("CARGO_BIN_EXE_taizhang")).arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("台账") && text.contains("数据库"), "{text}");
}
