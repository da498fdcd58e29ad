mod common;

use std::fs;

use common::{read_all, specs, text, tmp};
use encoding_rs::GBK;
use taizhang_tabular::{open, Cell, FileFormat};

const SHEET: &str = "北斗溪镇2023年低保金发放花名册,,,\n填报单位：民政办,,日期：2023-07-31,\n序号,姓名,身份证号,保障金额（元）\n1,张三,431224198001010011,350.50\n2,李四,4.31224E+17,400\n,,,\n";

fn check(path: &std::path::Path) {
    let (layout, rows) = read_all(path, &specs());
    assert_eq!(layout.header_row, 3);
    assert_eq!(layout.missing_specs, vec!["village".to_string()]);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].excel_row, 4);
    assert_eq!(
        rows[0].cells,
        vec![
            text("张三"),
            text("431224198001010011"),
            Cell::Empty,
            text("350.50")
        ]
    );
    // Scientific notation is left for the caller to detect and reject.
    assert_eq!(rows[1].cells[1], text("4.31224E+17"));
    assert_eq!(layout.empty_rows_skipped, 1);
}

#[test]
fn gbk_csv() {
    let dir = tmp();
    let path = dir.path().join("低保.csv");
    let (bytes, _, unmappable) = GBK.encode(SHEET);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must really be GBK"
    );
    fs::write(&path, &bytes).expect("write");
    let src = open(&path).expect("open");
    assert_eq!(src.format(), FileFormat::Csv);
    assert_eq!(src.sheet_names(), vec!["低保".to_string()]);
    check(&path);
}

#[test]
fn utf8_bom_csv() {
    let dir = tmp();
    let path = dir.path().join("bom.csv");
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(SHEET.as_bytes());
    fs::write(&path, bytes).expect("write");
    check(&path);
}

#[test]
fn utf8_csv_named_xlsx_is_read_as_csv() {
    let dir = tmp();
    let path = dir.path().join("plain.xlsx");
    fs::write(&path, SHEET).expect("write");
    assert_eq!(open(&path).expect("open").format(), FileFormat::Csv);
    check(&path);
}

#[test]
fn crlf_blank_lines_and_multiline_fields_keep_excel_row_numbers() {
    let dir = tmp();
    let path = dir.path().join("rows.csv");
    let body = "姓名,身份证号,村\r\n\r\n\"王\r\n五\",1,甲村\r\n\r\n\r\n赵六,2,乙村\r\n";
    fs::write(&path, body).expect("write");
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(layout.header_row, 1);
    assert_eq!(
        rows.iter().map(|r| r.excel_row).collect::<Vec<_>>(),
        vec![3, 6]
    );
    assert_eq!(rows[0].cells[0], text("王\r\n五"));
    assert_eq!(layout.empty_rows_skipped, 3);
}

#[test]
fn tab_separated_and_excel_text_formula() {
    let dir = tmp();
    let path = dir.path().join("tab.txt");
    fs::write(&path, "姓名\t身份证号\n甲\t=\"011010519491231002\"\n").expect("write");
    let (_, rows) = read_all(&path, &specs());
    assert_eq!(rows[0].cells[..2], [text("甲"), text("011010519491231002")]);
}

#[test]
fn html_disguised_as_xls_is_explained() {
    let dir = tmp();
    let path = dir.path().join("export.xls");
    fs::write(
        &path,
        "<html><body><table><tr><td>姓名</td></tr></table></body></html>",
    )
    .expect("write");
    let err = open(&path).err().expect("error").to_string();
    assert!(err.contains("网页"), "{err}");
}

#[test]
fn big_gbk_csv_streams() {
    // More rows than the sniffing window, with GBK text only after it.
    let dir = tmp();
    let path = dir.path().join("big.csv");
    let mut s = String::from("name,id\n");
    for i in 0..200_000 {
        s.push_str(&format!("n{i},{i}\n"));
    }
    s.push_str("郑十一,9\n");
    let (bytes, _, _) = GBK.encode(&s);
    fs::write(&path, &bytes).expect("write");
    let specs = vec![taizhang_tabular::ColumnSpec::new("name", &["name"])];
    let (layout, rows) = read_all(&path, &specs);
    assert_eq!(layout.rows_read, 200_001);
    assert_eq!(
        rows.last().map(|r| r.cells[0].clone()),
        Some(text("郑十一"))
    );
    assert_eq!(rows.last().map(|r| r.excel_row), Some(200_002));
}
