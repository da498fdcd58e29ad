//! `taizhang import` with several files (each reported, all or nothing unless `--partial`),
//! `--sheet` and `--set`, and what a clerk reads when memory runs out: Chinese, and the
//! database as it was.

mod common;
use common::{ok, on_postgres, on_sqlite, run};

use std::path::Path;

fn id(birth: &str, seq: u32) -> String {
    taizhang_storage::fixtures::id_number("433024", birth, seq)
}

fn count(dir: &Path, db: &str) -> String {
    ok(dir, db, &["record", "count", "dibao_payments"]).trim().to_string()
}

/// A town with `n` households in 坪溪村, H0001… .
fn town(dir: &Path, db: &str, n: u32) {
    ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村"]);
    let mut roster = String::from("姓名,公民身份号码,所属村,户编号,与户主关系\n");
    for i in 1..=n {
        roster.push_str(&format!("户主{i},{},坪溪村,H{i:04},户主\n", id("19600101", i)));
    }
    std::fs::write(dir.join("花名册.csv"), roster).expect("write");
    ok(dir, db, &["import", "--ledger", "persons", "花名册.csv"]);
}

fn payments(dir: &Path, name: &str, month: &str, n: u32) {
    let mut s = String::from("户编号,发放月份,金额（元）\n");
    for i in 1..=n {
        s.push_str(&format!("H{i:04},{month},{}\n", 300 + i));
    }
    std::fs::write(dir.join(name), s).expect("write");
}

fn several_files(dir: &Path, db: &str) {
    town(dir, db, 3);
    payments(dir, "一月.csv", "2024-01", 3);
    payments(dir, "二月.csv", "2024-02", 3);
    let o = run(dir, db, &["import", "--ledger", "dibao_payments", "一月.csv", "没有这个文件.xlsx", "二月.csv"]);
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(out.contains("一月.csv（工作表") && out.contains("二月.csv（工作表"), "each file reported: {out}");
    assert!(out.contains("没有这个文件.xlsx：无法导入："), "{out}");
    assert!(out.contains("这 3 个文件都未导入"), "{out}");
    assert!(err.contains("1 个文件未能导入"), "{err}");
    assert_eq!(count(dir, db), "0", "all or nothing across the command");

    let o = run(dir, db, &["import", "--ledger", "dibao_payments", "--partial", "一月.csv", "没有这个文件.xlsx", "二月.csv"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success(), "a file failed: the command still says so");
    assert_eq!(out.matches("已写入：新增 3，更新 0").count(), 2, "{out}");
    assert_eq!(count(dir, db), "6");

    // One sheet by its place, a month for the whole file.
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, month) in [("说明", ""), ("三月", "")] {
        let ws = wb.add_worksheet();
        ws.set_name(name).expect("name");
        if month.is_empty() && name == "说明" {
            ws.write_string(0, 0, "填表说明：金额单位为元").expect("w");
            continue;
        }
        ws.write_string(0, 0, "北斗溪镇2024年3月低保金发放表").expect("w");
        ws.write_string(1, 0, "户编号").expect("w");
        ws.write_string(1, 1, "金额（元）").expect("w");
        for r in 1..=3u32 {
            ws.write_string(1 + r, 0, format!("H{r:04}")).expect("w");
            ws.write_number(1 + r, 1, 310.0).expect("w");
        }
    }
    wb.save(dir.join("三月.xlsx")).expect("save");
    let o = run(dir, db, &["import", "--ledger", "dibao_payments", "--sheet", "2", "三月.xlsx"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success());
    assert!(out.contains("--set 发放月份=2024-03"), "the title's month is offered: {out}");
    let out = ok(dir, db, &["import", "--ledger", "dibao_payments", "--sheet", "三月", "--set", "发放月份=2024-03", "三月.xlsx"]);
    assert!(out.contains("新增 3") && out.contains("统一填写「发放月份」为「2024-03」：3 行该列为空，已填入"), "{out}");
    assert_eq!(count(dir, db), "9");
    let o = run(dir, db, &["import", "--ledger", "dibao_payments", "--set", "发放月份", "三月.xlsx"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--set 的写法是 列名=值"));
}

#[test]
fn several_files_on_sqlite() {
    on_sqlite(several_files);
}

#[test]
fn several_files_on_postgres() {
    on_postgres("several", several_files);
}

/// Words of the standard library or an engine (English) a clerk must never read.
fn english_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphabetic() {
            cur.push(c);
        } else {
            if cur.len() >= 3 {
                words.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    // Our own Chinese messages name these.
    words.retain(|w| !["TAIZHANG", "DEBUG", "head", "csv", "xlsx", "set", "partial"].contains(&w.as_str()));
    words
}

#[test]
fn out_of_memory_is_said_in_chinese_and_writes_nothing() {
    if std::process::Command::new("prlimit").arg("--version").output().is_err() {
        panic!("prlimit (util-linux) is needed to run a process with little memory");
    }
    let mut failures = Vec::new();
    // Address space, not memory used: the binary's own mapping, threads' stacks and the
    // allocators' reservations count. Between 80 and 300 MB where the import fails moves from
    // run to run (and at ~250 MB a debug build of sqlx can trip its own assertion on a null
    // pointer from SQLite), so the test keeps to limits whose outcome is settled: the smallest
    // at which the loader can map the binary at all (it grows with the program; below it the
    // C library's loader fails before any of our code runs), and enough (1,000 MB).
    let run = |mb: u64| {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("town.db").display().to_string();
        town(dir.path(), &db, 400);
        payments(dir.path(), "四月.csv", "2024-04", 400);
        let o = std::process::Command::new("prlimit")
            .arg(format!("--as={}", mb * 1_000_000))
            .arg(env!("CARGO_BIN_EXE_taizhang"))
            .args(["import", "--ledger", "dibao_payments", "四月.csv"])
            .current_dir(dir.path())
            .env("TAIZHANG_DB", &db)
            .env_remove("TAIZHANG_DEBUG")
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&o.stderr).replace(&db, "数据库文件");
        let n = count(dir.path(), &db);
        (o.status.success(), err, n)
    };
    let smallest = (40u64..=400).step_by(10).find_map(|mb| {
        let (ok, err, n) = run(mb);
        (!err.contains("error while loading shared libraries")).then_some((mb, ok, err, n))
    });
    let (mb, ok, err, n) = smallest.expect("the binary loads within 400 MB of address space");
    for (mb, ok, err, n) in [(mb, ok, err, n), { let (ok, err, n) = run(1000); (1000, ok, err, n) }] {
        if ok {
            assert_eq!(n, "400", "{mb} MB: imported whole");
        } else {
            assert!(english_words(&err).is_empty(), "{mb} MB: a clerk reads English: {err}");
            assert!(err.starts_with("错误："), "{mb} MB: {err}");
            assert_eq!(n, "0", "{mb} MB: a failed import writes nothing");
            failures.push(mb);
        }
    }
    assert!(failures.len() == 1 && failures[0] != 1000, "the smallest limit the binary loads at must fail, 1,000 MB must not: {failures:?}");
}
