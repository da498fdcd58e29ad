//! Layouts clerks make: 合计/小计 and signature lines under the rows (skipped, named, the 合计
//! checked against the rows), a month merged down a column or only in the title, a value
//! given for the whole file (`set`), months written every way, one sheet chosen, and several
//! files imported all or nothing.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use taizhang_domain::role::Actor;
use taizhang_domain::value::Value;
use taizhang_exchange::{import_file, import_files, ImportOptions, ImportReport};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, Db, Scope};

const H1: &str = "4312241102010001";
const H2: &str = "4312241102010002";
const H3: &str = "4312241102020001";

fn opts() -> ImportOptions {
    ImportOptions { ledger: Some("dibao_payments".into()), ..Default::default() }
}

async fn run(db: &Db, path: &Path, o: &ImportOptions) -> ImportReport {
    let r = import_file(db, &Actor::System, &Scope::all(), path, o, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

async fn households(db: &Db) {
    let t = town(db).await;
    let a = person(db, "王五", &id_number("433024", "19700101", 11), t.pingxi.id).await;
    household(db, H1, &a).await;
    let b = person(db, "李四", &id_number("433024", "19710101", 13), t.pingxi.id).await;
    household(db, H2, &b).await;
    let c = person(db, "赵六", &id_number("433024", "19720101", 15), t.maopo.id).await;
    household(db, H3, &c).await;
}

fn put(ws: &mut Worksheet, row: u32, cells: &[&str]) {
    for (col, v) in (0u16..).zip(cells) {
        if !v.is_empty() {
            ws.write_string(row, col, *v).expect("write");
        }
    }
}

fn workbook(dir: &Path, name: &str, fill: impl FnOnce(&mut Worksheet)) -> PathBuf {
    let path = dir.join(name);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("发放表").expect("name");
    fill(ws);
    wb.save(&path).expect("save");
    path
}

/// A month's roster as a clerk keeps it: title, header, three households, a 合计 row with
/// `total`, a signature line and a note.
fn roster_with_total(dir: &Path, name: &str, total: f64) -> PathBuf {
    workbook(dir, name, |ws| {
        put(ws, 0, &["北斗溪镇2023年7月城乡低保金发放花名册"]);
        put(ws, 1, &["序号", "户编号", "发放月份", "保障人数", "金额（元）"]);
        for (i, (h, n, amount)) in [(H1, 3.0, 520.0), (H2, 2.0, 400.0), (H3, 3.0, 520.0)].into_iter().enumerate() {
            let r = 2 + i as u32;
            ws.write_number(r, 0, (i + 1) as f64).expect("w");
            put(ws, r, &["", h, "2023-07"]);
            ws.write_number(r, 3, n).expect("w");
            ws.write_number(r, 4, amount).expect("w");
        }
        put(ws, 5, &["合  计"]);
        ws.write_number(5, 3, 8.0).expect("w");
        ws.write_number(5, 4, total).expect("w");
        put(ws, 7, &["制表人：张三          审核人：李四"]);
        put(ws, 8, &["填表说明：金额单位为元"]);
    })
}

both!(total_and_signature_rows_are_skipped_named_and_checked, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = roster_with_total(dir.path(), "七月.xlsx", 1440.0);
    let r = run(&db, &path, &opts()).await;
    assert_eq!((r.read, r.new, r.rejected, r.committed), (3, 3, 0, true), "{}", r.summary());
    let kinds: Vec<(u32, &str)> = r.skipped_rows.iter().map(|s| (s.row, s.kind.as_str())).collect();
    assert_eq!(kinds, vec![(6, "合计行"), (8, "签字行"), (9, "说明行")], "{:?}", r.skipped_rows);
    assert!(r.summary().contains("跳过非数据行 3 行（第 6 行「合  计」"), "{}", r.summary());
    assert!(!r.warnings.iter().any(|w| w.contains("相差")), "the total agrees: {:?}", r.warnings);
    assert_eq!(record_count(&db, "dibao_payments").await, 3);

    // A 合计 that does not agree with the rows is the clerk's own cross-check failing.
    let wrong = roster_with_total(dir.path(), "七月错.xlsx", 1500.0);
    let r = run(&db, &wrong, &opts()).await;
    assert_eq!((r.read, r.unchanged), (3, 3), "{}", r.summary());
    let w: Vec<&String> = r.warnings.iter().filter(|w| w.contains("相差")).collect();
    assert_eq!(w.len(), 1, "{:?}", r.warnings);
    assert!(w[0].contains("第 6 行「合  计」的发放金额为 1,500.00 元，导入的各行相加为 1,440.00 元，相差 60.00 元"), "{}", w[0]);
});

both!(subtotals_by_village_are_checked_group_by_group, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("小计.csv");
    let body = format!(
        "户编号,发放月份,金额（元）\n{H1},2023-08,520\n{H2},2023-08,400\n小计,,920\n,,\n{H3},2023-08,520\n小计,,500\n总计,,1440\n"
    );
    std::fs::write(&path, body).expect("write");
    let r = run(&db, &path, &opts()).await;
    assert_eq!((r.read, r.new), (3, 3), "{}", r.summary());
    assert_eq!(r.skipped_rows_total, 3);
    let w: Vec<&String> = r.warnings.iter().filter(|w| w.contains("相差")).collect();
    assert_eq!(w.len(), 1, "only the second 小计 is wrong: {:?}", r.warnings);
    assert!(w[0].contains("第 7 行「小计」") && w[0].contains("相差 20.00 元"), "{}", w[0]);
    assert!(r.warnings.iter().any(|w| w == "数据中间有 1 个空行（或只有格式、没有内容的行），已跳过"), "{:?}", r.warnings);
});

both!(a_refused_row_is_left_out_of_the_sum_and_said_so, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("拒绝.csv");
    let body = format!("户编号,发放月份,金额（元）\n{H1},2023-09,520\n9999999999999999,2023-09,400\n合计,,920\n");
    std::fs::write(&path, body).expect("write");
    let r = run(&db, &path, &ImportOptions { partial: true, ..opts() }).await;
    assert_eq!((r.read, r.new, r.rejected), (2, 1, 1), "{}", r.summary());
    let w = r.warnings.iter().find(|w| w.contains("相差")).expect("warned");
    assert!(w.contains("导入的各行相加为 520.00 元（另有 1 行被拒绝，未计入）"), "{w}");
    assert_eq!(r.written(), "已写入：新增 1，更新 0；被拒绝的 1 行未写入");
});

both!(a_month_merged_down_the_column_is_filled_and_said, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = workbook(dir.path(), "合并月份.xlsx", |ws| {
        put(ws, 0, &["户编号", "发放月份", "金额（元）"]);
        for (r, h) in (1u32..).zip([H1, H2, H3]) {
            put(ws, r, &[h]);
            ws.write_number(r, 2, 500.0).expect("w");
        }
        ws.merge_range(1, 1, 3, 1, "2023年10月", &Format::new()).expect("merge");
    });
    let r = run(&db, &path, &opts()).await;
    assert_eq!((r.read, r.new), (3, 3), "{} {:?}", r.summary(), r.rejections);
    assert!(r.warnings.iter().any(|w| w.contains("第 B 列「发放月份」第 2–4 行是合并单元格，已把第 2 行的值逐行填入")), "{:?}", r.warnings);
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let list = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    assert!(list.iter().all(|x| x.values.get("pay_month") == Some(&Value::Text("2023-10".into()))));
});

fn without_month(dir: &Path, name: &str, second_month: Option<&str>) -> PathBuf {
    workbook(dir, name, |ws| {
        put(ws, 0, &["北斗溪镇2023年11月城乡低保金发放花名册"]);
        match second_month {
            Some(m) => {
                put(ws, 1, &["户编号", "金额（元）", "月份"]);
                put(ws, 3, &["", "", m]);
            }
            None => put(ws, 1, &["户编号", "金额（元）"]),
        }
        for (r, h) in (2u32..).zip([H1, H2]) {
            put(ws, r, &[h]);
            ws.write_number(r, 1, 450.0).expect("w");
        }
    })
}

both!(a_month_only_in_the_title_is_given_with_set, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = without_month(dir.path(), "十一月.xlsx", None);
    let r = run(&db, &path, &opts()).await;
    assert_eq!((r.read, r.rejected, r.committed), (2, 2, false));
    let hint = r.warnings.iter().find(|w| w.contains("没有「发放月份」列")).expect("a hint");
    assert!(hint.contains("--set 发放月份=2023-11") && hint.contains("北斗溪镇2023年11月"), "{hint}");

    let set = ImportOptions { set: vec![("发放月份".into(), "2023年11月".into())], ..opts() };
    let r = run(&db, &path, &set).await;
    assert_eq!((r.read, r.new, r.committed), (2, 2, true), "{} {:?}", r.summary(), r.rejections);
    assert!(r.warnings.iter().any(|w| w == "统一填写「发放月份」为「2023年11月」：2 行该列为空，已填入"), "{:?}", r.warnings);
    assert!(!r.warnings.iter().any(|w| w.contains("没有「发放月份」列")));

    // A row that says another month is refused, not overwritten.
    let path = without_month(dir.path(), "十二月.xlsx", Some("2023-10"));
    let set = ImportOptions { set: vec![("发放月份".into(), "2023-12".into())], ..opts() };
    let r = run(&db, &path, &set).await;
    assert_eq!((r.read, r.rejected, r.committed), (2, 1, false), "{}", r.summary());
    assert_eq!(r.rejections[0].row, 4);
    assert!(r.rejections[0].reason.contains("与统一填写的「发放月份」（2023-12）不一致"), "{:?}", r.rejections);

    // A column the ledger does not have, or a value it cannot take, stops before any row.
    for (col, val, want) in [("发放季度", "1", "不是台账「低保金发放台账」的列"), ("发放月份", "2023-13", "统一填写的「发放月份」")] {
        let o = ImportOptions { set: vec![(col.into(), val.into())], ..opts() };
        let e = import_file(&db, &Actor::System, &Scope::all(), &path, &o, today()).await.expect_err("refused");
        assert!(e.to_string().contains(want), "{e}");
    }
    assert_eq!(record_count(&db, "dibao_payments").await, 2);
});

both!(months_read_the_same_from_every_form, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = workbook(dir.path(), "月份写法.xlsx", |ws| {
        put(ws, 0, &["户编号", "发放月份", "金额（元）"]);
        let texts = ["2023-01", "2023/2", "2023年3月", "", "", "2023-06-01", "2023/7/1", "2023年8月1日"];
        for (i, t) in texts.iter().enumerate() {
            let r = 1 + i as u32;
            put(ws, r, &[H1, t]);
            ws.write_number(r, 2, 100.0).expect("w");
        }
        ws.write_number(4, 1, 202304.0).expect("w");
        let may = ExcelDateTime::from_ymd(2023, 5, 1).expect("date");
        ws.write_datetime_with_format(5, 1, &may, &Format::new().set_num_format("yyyy年m月")).expect("w");
    });
    let r = run(&db, &path, &opts()).await;
    assert_eq!((r.read, r.new), (8, 8), "{} {:?}", r.summary(), r.rejections);
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let list = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    let mut months: Vec<String> = list
        .iter()
        .filter_map(|x| match x.values.get("pay_month") {
            Some(Value::Text(m)) => Some(m.clone()),
            _ => None,
        })
        .collect();
    months.sort();
    assert_eq!(months, (1..=8).map(|m| format!("2023-{m:02}")).collect::<Vec<_>>());

    // The same months from a CSV.
    let csv = dir.path().join("月份写法.csv");
    let rows: String = ["2023-01", "2023/2", "2023年3月", "202304", "2023-05-01", "2023/6/1"].iter().map(|m| format!("{H2},{m},100\n")).collect();
    std::fs::write(&csv, format!("户编号,发放月份,金额（元）\n{rows}")).expect("write");
    let r = run(&db, &csv, &opts()).await;
    assert_eq!((r.read, r.new), (6, 6), "{} {:?}", r.summary(), r.rejections);
});

both!(one_sheet_is_chosen_by_name_or_place, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("两村.xlsx");
    let mut wb = Workbook::new();
    for (name, h) in [("坪溪村", H1), ("茅坡村", H3)] {
        let ws = wb.add_worksheet();
        ws.set_name(name).expect("name");
        put(ws, 0, &["户编号", "发放月份", "金额（元）"]);
        put(ws, 1, &[h, "2023-12"]);
        ws.write_number(1, 2, 300.0).expect("w");
    }
    wb.save(&path).expect("save");
    let r = run(&db, &path, &ImportOptions { sheet: Some("2".into()), dry_run: true, ..opts() }).await;
    assert_eq!((r.read, r.sheet.as_str()), (1, "茅坡村"));
    let r = run(&db, &path, &ImportOptions { sheet: Some("坪溪村".into()), ..opts() }).await;
    assert_eq!((r.read, r.new, r.sheet.as_str()), (1, 1, "坪溪村"));
    assert_eq!(record_count(&db, "dibao_payments").await, 1);
    let e = import_file(&db, &Actor::System, &Scope::all(), &path, &ImportOptions { sheet: Some("3".into()), ..opts() }, today())
        .await
        .expect_err("no third sheet");
    assert!(e.to_string().contains("文件中没有工作表「3」（有：1「坪溪村」、2「茅坡村」）"), "{e}");
});

both!(several_files_are_all_or_nothing_and_each_is_reported, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let good = |name: &str, month: &str| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, format!("户编号,发放月份,金额（元）\n{H1},{month},500\n{H2},{month},400\n")).expect("write");
        p
    };
    let a = good("一月.csv", "2024-01");
    let b = good("二月.csv", "2024-02");
    let missing = dir.path().join("三月.xlsx");
    let bad_row = dir.path().join("四月.csv");
    std::fs::write(&bad_row, format!("户编号,发放月份,金额（元）\n{H1},2024-04,500\n{H2},2024-04,-3\n")).expect("write");

    let files = vec![a.clone(), missing.clone(), b.clone()];
    let out = import_files(&db, &Actor::System, &Scope::all(), &files, &opts(), today()).await.expect("import");
    assert_eq!(out.len(), 3, "every file has its outcome");
    assert!(out[0].result.as_ref().is_ok_and(|r| r.new == 2 && !r.committed));
    let e = out[1].result.as_ref().expect_err("cannot open");
    assert!(e.to_string().contains("三月.xlsx"), "{e}");
    assert!(out[2].result.as_ref().is_ok_and(|r| r.new == 2 && !r.committed));
    assert_eq!(record_count(&db, "dibao_payments").await, 0, "nothing written when a file fails");

    // A refused row in one file holds back the others too.
    let files = vec![a.clone(), bad_row.clone()];
    let out = import_files(&db, &Actor::System, &Scope::all(), &files, &opts(), today()).await.expect("import");
    assert!(out[1].result.as_ref().is_ok_and(|r| r.rejected == 1));
    assert_eq!(record_count(&db, "dibao_payments").await, 0);

    // With partial, what can be written is, and each file says what.
    let files = vec![a, missing, b, bad_row];
    let partial = ImportOptions { partial: true, ..opts() };
    let out = import_files(&db, &Actor::System, &Scope::all(), &files, &partial, today()).await.expect("import");
    let written: Vec<String> = out.iter().map(|o| o.result.as_ref().map_or_else(|e| format!("失败：{e}"), |r| r.written())).collect();
    assert_eq!(written[0], "已写入：新增 2，更新 0");
    assert!(written[1].starts_with("失败："));
    assert_eq!(written[2], "已写入：新增 2，更新 0");
    assert_eq!(written[3], "已写入：新增 1，更新 0；被拒绝的 1 行未写入");
    assert_eq!(record_count(&db, "dibao_payments").await, 5);
});

both!(a_roster_with_a_total_and_signatures_imports_its_people, |db: Db| async move {
    town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("花名册.csv");
    let (a, b) = (id_number("433024", "19500101", 41), id_number("433024", "19800202", 42));
    let body = format!(
        "坪溪村花名册,,,,\n序号,姓名,公民身份号码,所属村,户编号,与户主关系\n1,张三,{a},坪溪村,H101,户主\n2,李四,{b},坪溪村,H101,妻\n合计,2人,,,,\n制表人：王五,,审核人：赵六,,,\n"
    );
    std::fs::write(&path, body).expect("write");
    let o = ImportOptions { ledger: Some("persons".into()), ..Default::default() };
    let r = run(&db, &path, &o).await;
    assert_eq!((r.read, r.new, r.rejected, r.committed), (2, 2, 0, true), "{} {:?}", r.summary(), r.rejections);
    let kinds: Vec<(u32, &str)> = r.skipped_rows.iter().map(|s| (s.row, s.kind.as_str())).collect();
    assert_eq!(kinds, vec![(5, "合计行"), (6, "签字行")]);

    // The other registry imports skip them the same way.
    let path = dir.path().join("干部.csv");
    std::fs::write(&path, "姓名,职务,所在单位\n王干部,党委委员,北斗溪镇人民政府\n合计,1人,\n审核人：赵六,,\n").expect("write");
    let o = ImportOptions { ledger: Some("cadres".into()), ..Default::default() };
    let r = run(&db, &path, &o).await;
    assert_eq!((r.read, r.skipped_rows_total), (1, 2), "{} {:?}", r.summary(), r.rejections);
});
