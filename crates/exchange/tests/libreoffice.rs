//! Files as they reach a town: a clerk's workbook (title, a month merged down its column, 合计
//! and signature lines, a 填表说明 sheet) saved again by LibreOffice Calc as .xlsx and as
//! .xls, imported the same as the original. Needs `soffice` (Debian's libreoffice-calc-nogui,
//! installed by .ci/run); without it these tests fail, they never skip.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use rust_xlsxwriter::{Format, Formula, Workbook};
use taizhang_domain::role::Actor;
use taizhang_domain::value::Value;
use taizhang_exchange::{import_file, ImportOptions, ImportReport};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, Db, Scope};

const H: [&str; 3] = ["4312241102010001", "4312241102010002", "4312241102020001"];

/// The workbook as a clerk made it in Excel or WPS.
fn clerk_workbook(dir: &Path) -> PathBuf {
    let path = dir.join("七月发放.xlsx");
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("填表说明").expect("name");
    notes.write_string(0, 0, "填表说明").expect("w");
    notes.write_string(1, 0, "1.").expect("w");
    notes.write_string(1, 1, "户编号请设置为文本格式，金额单位为元，每月一张表").expect("w");
    let ws = wb.add_worksheet();
    ws.set_name("七月").expect("name");
    ws.merge_range(0, 0, 0, 4, "北斗溪镇2023年7月城乡低保金发放花名册", &Format::new().set_bold()).expect("title");
    for (c, h) in ["序号", "户编号", "发放月份", "保障人数", "金额（元）"].iter().enumerate() {
        ws.write_string(1, c as u16, *h).expect("w");
    }
    for (i, (h, n, amount)) in [(H[0], 3.0, 520.5), (H[1], 2.0, 400.0), (H[2], 3.0, 520.0)].into_iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_number(r, 0, (i + 1) as f64).expect("w");
        ws.write_string(r, 1, h).expect("w");
        ws.write_number(r, 3, n).expect("w");
        ws.write_number_with_format(r, 4, amount, &Format::new().set_num_format("#,##0.00")).expect("w");
    }
    ws.merge_range(2, 2, 4, 2, "2023年7月", &Format::new()).expect("merge");
    ws.write_string(5, 0, "合计").expect("w");
    // With the results Excel would have stored (LibreOffice does not recalculate on load).
    ws.write_formula(5, 3, Formula::new("=SUM(D3:D5)").set_result("8")).expect("w");
    ws.write_formula(5, 4, Formula::new("=SUM(E3:E5)").set_result("1440.5")).expect("w");
    ws.write_string(7, 0, "制表人：张三          审核人：李四          2023年7月31日").expect("w");
    wb.save(&path).expect("save");
    path
}

/// `src` saved again by LibreOffice Calc in format `ext` (xlsx or xls), in its own directory.
fn resave(src: &Path, ext: &str) -> PathBuf {
    let out = src.parent().expect("dir").join(format!("libreoffice-{ext}"));
    let profile = tempfile::tempdir().expect("profile");
    let filter = match ext {
        "xls" => "xls:MS Excel 97",
        _ => "xlsx:Calc MS Excel 2007 XML",
    };
    let o = Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.path().display()))
        .args(["--headless", "--calc", "--convert-to", filter, "--outdir"])
        .arg(&out)
        .arg(src)
        .output()
        .unwrap_or_else(|e| panic!("soffice (libreoffice-calc-nogui) is needed to re-save test files: {e}"));
    let path = out.join(src.with_extension(ext).file_name().expect("name"));
    assert!(path.exists(), "soffice wrote nothing: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    path
}

async fn households(db: &Db) {
    let t = town(db).await;
    for (i, (h, v)) in H.iter().zip([t.pingxi.id, t.pingxi.id, t.maopo.id]).enumerate() {
        let p = person(db, &format!("户主{i}"), &id_number("433024", "19700101", 31 + i as u32), v).await;
        household(db, h, &p).await;
    }
}

fn check(r: &ImportReport, what: &str) {
    assert!(r.balanced(), "{what}: {}", r.summary());
    assert_eq!((r.read, r.rejected), (3, 0), "{what}: {} {:?}", r.summary(), r.rejections);
    let kinds: Vec<&str> = r.skipped_rows.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, vec!["合计行", "签字行"], "{what}: {:?}", r.skipped_rows);
    assert!(r.sheets.iter().any(|s| s.name == "填表说明" && s.skipped.is_some()), "{what}: {:?}", r.sheets);
    assert!(r.warnings.iter().any(|w| w.contains("第 C 列「发放月份」第 3–5 行是合并单元格")), "{what}: {:?}", r.warnings);
    assert!(!r.warnings.iter().any(|w| w.contains("相差")), "{what}: the 合计 agrees: {:?}", r.warnings);
}

both!(a_clerks_workbook_resaved_by_libreoffice_imports_the_same, |db: Db| async move {
    households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let original = clerk_workbook(dir.path());
    let as_xlsx = resave(&original, "xlsx");
    let as_xls = resave(&original, "xls");
    let o = ImportOptions { ledger: Some("dibao_payments".into()), ..Default::default() };
    let dry = ImportOptions { dry_run: true, ..o.clone() };
    for (path, what) in [(&as_xls, "LibreOffice .xls"), (&as_xlsx, "LibreOffice .xlsx")] {
        let r = import_file(&db, &Actor::System, &Scope::all(), path, &dry, today()).await.expect(what);
        check(&r, what);
        assert_eq!(r.new, 3, "{what}");
    }
    let r = import_file(&db, &Actor::System, &Scope::all(), &original, &o, today()).await.expect("original");
    check(&r, "original");
    assert_eq!((r.new, r.committed), (3, true));
    // Each re-saved copy is the same file to Taizhang: nothing changes.
    for (path, what) in [(&as_xls, "LibreOffice .xls"), (&as_xlsx, "LibreOffice .xlsx")] {
        let r = import_file(&db, &Actor::System, &Scope::all(), path, &o, today()).await.expect(what);
        check(&r, what);
        assert_eq!(r.unchanged, 3, "{what}: {}", r.summary());
    }
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let list = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|x| x.values.get("pay_month") == Some(&Value::Text("2023-07".into()))));
    let mut amounts: Vec<Option<&Value>> = list.iter().map(|x| x.values.get("amount")).collect();
    amounts.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(amounts, vec![Some(&Value::Int(40_000)), Some(&Value::Int(52_000)), Some(&Value::Int(52_050))]);
});
