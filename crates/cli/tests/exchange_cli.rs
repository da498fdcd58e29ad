//! `taizhang import | export | template` as a clerk runs them: real processes, files the test
//! writes (a GBK CSV as Excel saves it in China), a real SQLite file, and PostgreSQL when
//! `TAIZHANG_TEST_PG` is set.

mod common;
use common::{ok, on_postgres, on_sqlite, run};

use std::path::Path;

fn gbk(dir: &Path, name: &str, text: &str) {
    let (bytes, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad, "GBK can write every character of the fixture");
    std::fs::write(dir.join(name), bytes).expect("write csv");
}

fn id(birth: &str, seq: u32) -> String {
    taizhang_storage::fixtures::id_number("433024", birth, seq)
}

fn count(dir: &Path, db: &str) -> String {
    ok(dir, db, &["record", "count", "dibao_payments"]).trim().to_string()
}

fn story(dir: &Path, db: &str) {
    ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村"]);
    let (a, b) = (id("19500101", 1), id("19600202", 2));

    // The registry first: two heads of household, from a GBK CSV with a title row.
    gbk(dir, "花名册.csv", &format!("坪溪村花名册,,,,\n姓名,公民身份号码,所属村,户编号,与户主关系\n张三,{a},坪溪村,H001,户主\n李四,{b},坪溪村,H002,户主\n"));
    let out = ok(dir, db, &["import", "--ledger", "persons", "花名册.csv"]);
    assert!(out.contains("新增 2"), "{out}");

    // A payment sheet with one bad row: nothing is written, the command fails, the error
    // workbook lands beside the file and the terminal lists the row.
    let sheet = format!(
        "2023年低保金发放花名册,,,,\n序号,户主身份证号,发放月份,发放金额（元）,发放日期\n1,{a},2023-01,\"1,250.00\",2023/1/5\n2,{b},2023年2月,八百,2023.2.5\n3,{b},2023-03,800元,2023年3月5日\n"
    );
    gbk(dir, "发放.csv", &sheet);
    let before = count(dir, db);
    let o = run(dir, db, &["import", "--ledger", "dibao_payments", "发放.csv"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "a file with a bad row must fail: {stdout}");
    assert!(stdout.contains("第 4 行") && stdout.contains("发放金额"), "{stdout}");
    assert!(stdout.contains("读取 3 行") && stdout.contains("拒绝 1"), "{stdout}");
    assert!(dir.join("发放.错误清单.xlsx").exists(), "error workbook beside the input");
    assert_eq!(count(dir, db), before, "all-or-nothing: nothing written");

    // --partial writes the good rows and still fails (a row was refused).
    let o = run(dir, db, &["import", "--partial", "--ledger", "低保金发放台账", "发放.csv"]);
    assert!(!o.status.success());
    assert_eq!(count(dir, db), "2");

    // Mended and imported again: the two written rows are unchanged, the mended one is new.
    gbk(dir, "发放.csv", &sheet.replace("八百", "800"));
    let out = ok(dir, db, &["import", "--ledger", "dibao_payments", "发放.csv"]);
    assert!(out.contains("新增 1") && out.contains("未变 2"), "{out}");
    let out = ok(dir, db, &["import", "--ledger", "dibao_payments", "发放.csv"]);
    assert!(out.contains("新增 0") && out.contains("未变 3"), "idempotent: {out}");

    // Export, then import the export: nothing changes (round trip).
    ok(dir, db, &["export", "dibao_payments", "--year", "2023", "-o", "导出.xlsx"]);
    let out = ok(dir, db, &["import", "--ledger", "dibao_payments", "导出.xlsx"]);
    assert!(out.contains("未变 3") && out.contains("拒绝 0"), "round trip: {out}");
    ok(dir, db, &["export", "dibao_payments", "--year", "2023", "-o", "导出.csv"]);
    let out = ok(dir, db, &["import", "--ledger", "dibao_payments", "导出.csv"]);
    assert!(out.contains("未变 3"), "CSV round trip: {out}");

    // --dry-run writes nothing even for good rows.
    gbk(dir, "四月.csv", &format!("户主身份证号,发放月份,发放金额\n{a},2023-04,500\n"));
    let out = ok(dir, db, &["import", "--dry-run", "--ledger", "dibao_payments", "四月.csv"]);
    assert!(out.contains("新增 1") && out.contains("没有写入"), "{out}");
    assert_eq!(count(dir, db), "3");

    // A blank template opens as a workbook with the ledger's columns.
    ok(dir, db, &["template", "dibao_payments", "-o", "模板.xlsx"]);
    let bytes = std::fs::read(dir.join("模板.xlsx")).expect("template");
    assert!(bytes.starts_with(b"PK"), "an xlsx (zip) file");
}

#[test]
fn exchange_on_sqlite() {
    on_sqlite(story);
}

#[test]
fn exchange_on_postgres() {
    on_postgres("x", story);
}
