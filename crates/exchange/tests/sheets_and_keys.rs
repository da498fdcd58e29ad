//! The same natural key twice in one file is refused naming both rows (batch path, per-row
//! path, across sheets); a workbook's every sheet whose header matches is read, the others
//! reported as skipped; a clean file re-imports as 未变.

mod common;
use common::*;

use std::path::Path;

use rust_xlsxwriter::Workbook;
use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions, ImportReport};
use taizhang_storage::{Db, Scope};

fn opts(ledger: &str) -> ImportOptions {
    ImportOptions { ledger: Some(ledger.into()), ..Default::default() }
}

async fn run(db: &Db, path: &Path, o: &ImportOptions) -> ImportReport {
    let r = import_file(db, &Actor::System, &Scope::all(), path, o, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

const PAY_HEADER: &str = "户编号,发放月份,发放类别,金额（元）\n";
const H1: &str = "4312241102010001";
const H2: &str = "4312241102010002";
const H3: &str = "4312241102020001";

/// Two households in 坪溪村, one in 茅坡村.
async fn households(db: &Db) {
    let t = town(db).await;
    let a = person(db, "王五", &id_number("433024", "19700101", 11), t.pingxi.id).await;
    household(db, H1, &a).await;
    let b = person(db, "李四", &id_number("433024", "19710101", 13), t.pingxi.id).await;
    household(db, H2, &b).await;
    let c = person(db, "赵六", &id_number("433024", "19720101", 15), t.maopo.id).await;
    household(db, H3, &c).await;
}

both!(key_repeated_in_one_csv_is_refused_naming_both_rows, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("低保发放.csv");
    // Row 4 repeats row 2's household, month and kind with another amount.
    let body = format!("{PAY_HEADER}{H1},2023-07,正常发放,520\n{H2},2023-07,正常发放,400\n{H1},2023-07,正常发放,560\n{H1},2023-08,正常发放,520\n");
    std::fs::write(&path, body).expect("write");
    let r = run(&db, &path, &opts("dibao_payments")).await;
    assert_eq!((r.read, r.rejected, r.committed), (4, 1, false), "{}", r.summary());
    assert_eq!(r.rejections.len(), 1, "{:?}", r.rejections);
    let x = &r.rejections[0];
    assert_eq!(x.row, 4, "the later row is refused");
    assert!(x.reason.contains("与第 2 行的识别字段相同（户编号、发放月份、发放类别）"), "{}", x.reason);
    assert_eq!(record_count(&db, "dibao_payments").await, 0, "all or nothing");

    // With --partial the first of the two is written and the later still refused.
    let r = run(&db, &path, &ImportOptions { partial: true, ..opts("dibao_payments") }).await;
    assert_eq!((r.new, r.rejected, r.committed), (3, 1, true), "{}", r.summary());
    assert_eq!(r.rejections[0].row, 4);
    assert_eq!(record_count(&db, "dibao_payments").await, 3);

    // Imported again, the file is refused the same way, never 更新: the first row is 未变.
    let r = run(&db, &path, &ImportOptions { partial: true, ..opts("dibao_payments") }).await;
    assert_eq!((r.unchanged, r.updated, r.rejected), (3, 0, 1), "{}", r.summary());

    // The clean file (the repeat removed) re-imports as 未变, every time.
    let clean = dir.path().join("更正.csv");
    std::fs::write(&clean, format!("{PAY_HEADER}{H1},2023-07,正常发放,520\n{H2},2023-07,正常发放,400\n{H1},2023-08,正常发放,520\n")).expect("write");
    for _ in 0..2 {
        let r = run(&db, &clean, &opts("dibao_payments")).await;
        assert_eq!((r.read, r.unchanged, r.rejected), (3, 3, 0), "{}", r.summary());
    }
});

both!(key_repeated_on_the_row_by_row_path_is_refused, |db: Db| async move {
    let _ = town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("隐患.csv");
    let body = "发现日期,隐患地点,所属村,行业领域,隐患描述,隐患等级\n\
                2023-01-05,坪溪村组道边,坪溪村,燃气,液化气罐露天堆放,一般\n\
                2023-01-05,坪溪村组道边,坪溪村,燃气,液化气罐露天堆放,重大\n";
    std::fs::write(&path, body).expect("write");
    let r = run(&db, &path, &opts("hazards")).await;
    assert_eq!((r.read, r.rejected, r.committed), (2, 1, false), "{}", r.summary());
    let x = &r.rejections[0];
    assert_eq!(x.row, 3);
    assert!(x.reason.contains("与第 2 行的识别字段相同"), "{}", x.reason);
    assert_eq!(record_count(&db, "hazards").await, 0);
});

/// A payment row: 户编号, month, amount in 元.
type Pay<'a> = (&'a str, &'a str, f64);

/// 填表说明, village sheets (each `(name, rows)`), an empty sheet and a hidden one.
fn village_workbook(path: &Path, villages: &[(&str, Vec<Pay<'_>>)]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("填表说明").expect("name");
    ws.write_string(0, 0, "填表说明").expect("s");
    ws.write_string(1, 0, "1. 户编号填 16 位，请把该列设为文本。").expect("s");
    ws.write_string(2, 0, "2. 发放月份写作 2023-07；每村一张表。").expect("s");
    for (name, rows) in villages {
        let ws = wb.add_worksheet();
        ws.set_name(*name).expect("name");
        ws.write_string(0, 0, format!("{name}低保金发放花名册")).expect("title");
        for (c, h) in (0u16..).zip(["户编号", "发放月份", "发放类别", "金额（元）"]) {
            ws.write_string(1, c, h).expect("header");
        }
        for (r, (h, month, amount)) in (2u32..).zip(rows) {
            ws.write_string(r, 0, *h).expect("h");
            ws.write_string(r, 1, *month).expect("m");
            ws.write_string(r, 2, "正常发放").expect("k");
            ws.write_number(r, 3, *amount).expect("a");
        }
    }
    let ws = wb.add_worksheet();
    ws.set_name("Sheet4").expect("name");
    // A hidden old copy: not imported.
    let ws = wb.add_worksheet();
    ws.set_name("旧表").expect("name");
    for (c, h) in (0u16..).zip(["户编号", "发放月份", "发放类别", "金额（元）"]) {
        ws.write_string(0, c, h).expect("header");
    }
    ws.write_string(1, 0, H1).expect("h");
    ws.write_string(1, 1, "2022-01").expect("m");
    ws.write_number(1, 3, 1.0).expect("a");
    ws.set_hidden(true);
    wb.save(path).expect("save");
}

both!(every_sheet_whose_header_matches_is_read_and_skipped_ones_reported, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("各村低保.xlsx");
    village_workbook(&path, &[("坪溪村", vec![(H1, "2023-07", 520.0), (H2, "2023-07", 400.0), (H1, "2023-08", 520.0)]), ("茅坡村", vec![(H3, "2023-07", 610.0), (H3, "2023-08", 610.0)])]);
    let r = run(&db, &path, &opts("dibao_payments")).await;
    assert_eq!((r.read, r.new, r.rejected, r.committed), (5, 5, 0, true), "{} {:?}", r.summary(), r.rejections);
    let sheets: Vec<(&str, usize, Option<&str>)> = r.sheets.iter().map(|s| (s.name.as_str(), s.read, s.skipped.as_deref())).collect();
    assert_eq!(
        sheets,
        vec![("填表说明", 0, Some("填表说明")), ("坪溪村", 3, None), ("茅坡村", 2, None), ("Sheet4", 0, Some("空表")), ("旧表", 0, Some("隐藏的工作表"))]
    );
    let s = r.summary();
    assert!(s.starts_with("读取 5 行：新增 5，更新 0，未变 0，拒绝 0；"), "{s}");
    assert!(s.contains("工作表「填表说明」未读取（填表说明）") && s.contains("工作表「坪溪村」读取 3 行") && s.contains("工作表「茅坡村」读取 2 行"), "{s}");
    assert_eq!(r.sheet, "坪溪村、茅坡村");
    assert_eq!(record_count(&db, "dibao_payments").await, 5);

    // Re-imported: all 未变, every time.
    for _ in 0..2 {
        let r = run(&db, &path, &opts("dibao_payments")).await;
        assert_eq!((r.read, r.unchanged, r.new, r.updated, r.rejected), (5, 5, 0, 0, 0), "{}", r.summary());
    }
});

both!(key_repeated_on_another_sheet_is_refused_naming_that_sheet, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("重复.xlsx");
    village_workbook(&path, &[("坪溪村", vec![(H1, "2023-07", 520.0)]), ("茅坡村", vec![(H3, "2023-07", 610.0), (H1, "2023-07", 560.0)])]);
    let r = run(&db, &path, &opts("dibao_payments")).await;
    assert_eq!((r.read, r.rejected, r.committed), (3, 1, false), "{}", r.summary());
    let x = &r.rejections[0];
    assert_eq!((x.sheet.as_str(), x.row), ("茅坡村", 4));
    assert!(x.reason.contains("与工作表「坪溪村」第 3 行的识别字段相同"), "{}", x.reason);
    assert_eq!(record_count(&db, "dibao_payments").await, 0);
});

both!(a_workbook_without_any_matching_sheet_is_refused, |db: Db| async move {
    let _ = town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("说明.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("填表说明").expect("name");
    ws.write_string(0, 0, "填表说明").expect("s");
    ws.write_string(1, 0, "每村一张表。").expect("s");
    wb.save(&path).expect("save");
    let e = import_file(&db, &Actor::System, &Scope::all(), &path, &opts("dibao_payments"), today()).await.expect_err("refused");
    assert!(e.to_string().contains("找不到表头行"), "{e}");
});
