//! Fixture helpers: every test file is generated here, never checked in.
#![allow(dead_code)]

use std::convert::Infallible;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Workbook, Worksheet};
use taizhang_tabular::{
    open, open_with, Cell, ColumnSpec, Limits, RawRow, ReadError, SheetLayout, TabularError,
};

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

pub fn specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::new("name", &["姓名", "户主姓名"]),
        ColumnSpec::new("id_number", &["身份证号", "公民身份号码", "身份证号码"]),
        ColumnSpec::new("village", &["村", "所在村"]),
        ColumnSpec::new("amount", &["保障金额(元)", "保障金额", "金额"]),
    ]
}

/// Writes a standard (shared-strings) workbook; `fill` gets the first sheet.
pub fn xlsx(dir: &Path, name: &str, fill: impl FnOnce(&mut Worksheet)) -> PathBuf {
    let path = dir.join(name);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("花名册").expect("name");
    fill(ws);
    wb.save(&path).expect("save");
    path
}

pub fn put(ws: &mut Worksheet, row: u32, cells: &[&str]) {
    for (col, v) in (0u16..).zip(cells) {
        if !v.is_empty() {
            ws.write_string(row, col, *v).expect("write");
        }
    }
}

pub fn read_all(path: &Path, specs: &[ColumnSpec]) -> (SheetLayout, Vec<RawRow>) {
    let mut src = open(path).unwrap_or_else(|e| panic!("open: {e}"));
    let sheet = src.sheet_names().into_iter().next().expect("a sheet");
    let mut rows = Vec::new();
    let layout = src
        .read_sheet(&sheet, specs, &mut |r: RawRow| -> Result<(), Infallible> {
            rows.push(r);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("read: {e}"));
    (layout, rows)
}

pub fn read_err(path: &Path, specs: &[ColumnSpec]) -> String {
    let mut src = match open(path) {
        Ok(s) => s,
        Err(e) => return e.to_string(),
    };
    let sheet = src.sheet_names().into_iter().next().unwrap_or_default();
    match src.read_sheet(&sheet, specs, &mut |_r: RawRow| -> Result<(), Infallible> {
        Ok(())
    }) {
        Ok(l) => panic!("expected an error, got {l:?}"),
        Err(e) => e.to_string(),
    }
}

pub fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

pub fn read_all_with(
    path: &Path,
    specs: &[ColumnSpec],
    limits: Limits,
) -> (SheetLayout, Vec<RawRow>) {
    let mut src = open_with(path, limits).unwrap_or_else(|e| panic!("open: {e}"));
    let sheet = src.sheet_names().into_iter().next().expect("a sheet");
    let mut rows = Vec::new();
    let layout = src
        .read_sheet(&sheet, specs, &mut |r: RawRow| -> Result<(), Infallible> {
            rows.push(r);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("read: {e}"));
    (layout, rows)
}

/// The error opening or reading the first sheet under `limits` stops at, and the rows
/// handed out before it.
pub fn fail_with(path: &Path, specs: &[ColumnSpec], limits: Limits) -> (TabularError, Vec<RawRow>) {
    let mut src = match open_with(path, limits) {
        Ok(s) => s,
        Err(e) => return (e, Vec::new()),
    };
    let sheet = src.sheet_names().into_iter().next().unwrap_or_default();
    let mut rows = Vec::new();
    match src.read_sheet(&sheet, specs, &mut |r: RawRow| -> Result<(), Infallible> {
        rows.push(r);
        Ok(())
    }) {
        Ok(l) => panic!("expected an error, got {l:?}"),
        Err(ReadError::Tabular(e)) => (e, rows),
        Err(ReadError::Callback(never)) => match never {},
    }
}

/// A message a clerk reads: Chinese, with no English from a library. What may stay is the
/// file's name, column letters and the names of formats and encodings.
pub fn assert_chinese(msg: &str, file: &str) {
    let mut rest = msg.replace(file, "");
    for allowed in [
        ".xlsx", ".xls", "UTF-8", "UTF-16", "GB18030", "GBK", "Excel", "WPS", "CSV", "XML", "KB",
        "MB", "GB",
    ] {
        rest = rest.replace(allowed, "");
    }
    let mut word = String::new();
    for c in rest.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphabetic() {
            word.push(c);
            continue;
        }
        let english = word.chars().any(|c| c.is_ascii_lowercase()) || word.len() > 3;
        assert!(!english, "English「{word}」in: {msg}");
        word.clear();
    }
    assert!(
        msg.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
        "not Chinese: {msg}"
    );
    assert!(
        !msg.contains("panicked") && !msg.contains("backtrace"),
        "{msg}"
    );
}
