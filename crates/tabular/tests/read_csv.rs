mod common;

use std::fs;

use common::{assert_chinese, fail_with, read_all, read_all_with, specs, text, tmp};
use encoding_rs::GBK;
use taizhang_tabular::{open, Cell, FileFormat, Limits, TabularError};

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

/// The fixture sheet with another delimiter; a semicolon file from a European Excel writes
/// decimal commas, which must not be taken for the delimiter.
fn with_delimiter(d: char, decimal_comma: bool) -> String {
    let amount = if decimal_comma { "350,50" } else { "350.50" };
    [
        "北斗溪镇2023年低保金发放花名册;;;".replace(';', &d.to_string()),
        "序号;姓名;身份证号;保障金额（元）".replace(';', &d.to_string()),
        format!("1;张三;431224198001010011;{amount}").replace(';', &d.to_string()),
        "2;李四;4.31224E+17;400".replace(';', &d.to_string()),
        String::new(),
    ]
    .join("\r\n")
}

fn check_delimited(path: &std::path::Path, amount: &str) {
    let (layout, rows) = read_all(path, &specs());
    assert_eq!(layout.header_row, 2);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].excel_row, 3);
    assert_eq!(
        rows[0].cells,
        vec![text("张三"), text("431224198001010011"), Cell::Empty, text(amount)]
    );
    assert_eq!(rows[1].cells[1], text("4.31224E+17"));
}

#[test]
fn semicolon_csv_with_decimal_commas() {
    let dir = tmp();
    let path = dir.path().join("semicolon.csv");
    fs::write(&path, with_delimiter(';', true)).expect("write");
    check_delimited(&path, "350,50");
}

#[test]
fn pipe_csv() {
    let dir = tmp();
    let path = dir.path().join("pipe.csv");
    fs::write(&path, with_delimiter('|', false)).expect("write");
    check_delimited(&path, "350.50");
}

#[test]
fn tab_separated_gbk() {
    let dir = tmp();
    let path = dir.path().join("tab.csv");
    let text = with_delimiter('\t', true);
    let (bytes, _, _) = GBK.encode(&text);
    fs::write(&path, &bytes).expect("write");
    check_delimited(&path, "350,50");
}

#[test]
fn utf16_without_bom_both_byte_orders() {
    let dir = tmp();
    let text = with_delimiter('\t', false);
    for (name, bytes) in [
        ("le.csv", text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>()),
        ("be.csv", text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, &bytes).expect("write");
        assert_eq!(open(&path).expect("open").format(), FileFormat::Csv);
        check_delimited(&path, "350.50");
    }
}

/// Rows of UTF-8 past the first 64 KB, then rows of GBK: the Excel row of the first
/// GBK row, and the rows before it.
fn switching_file(first_utf8: bool) -> (Vec<u8>, u32) {
    let header = "序号,姓名,身份证号,村\n";
    let enc = |s: &str, utf8: bool| if utf8 { s.as_bytes().to_vec() } else { GBK.encode(s).0.into_owned() };
    let mut bytes = enc(header, first_utf8);
    let mut row = 1;
    while bytes.len() < 70 * 1024 {
        row += 1;
        bytes.extend(enc(&format!("{row},张三,43122419800101{row:04},龙潭村\n"), first_utf8));
    }
    row += 1;
    let switch = row;
    for _ in 0..3 {
        bytes.extend(enc(&format!("{row},李四,43122419800101{row:04},新屋村\n"), !first_utf8));
        row += 1;
    }
    (bytes, switch)
}

#[test]
fn utf8_then_gbk_after_64_kb_is_refused_with_its_row() {
    let dir = tmp();
    let path = dir.path().join("拼接.csv");
    let (bytes, switch) = switching_file(true);
    fs::write(&path, &bytes).expect("write");
    let (err, rows) = fail_with(&path, &specs(), Limits::default());
    assert!(matches!(err, TabularError::EncodingChanged { row, .. } if row == switch), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("从第 {switch} 行起")) && msg.contains("UTF-8"), "{msg}");
    assert_chinese(&msg, "拼接.csv");
    // Nothing handed out holds a replacement character.
    assert!(rows.iter().flat_map(|r| &r.cells).all(|c| !matches!(c, Cell::Text(t) if t.contains('\u{FFFD}'))));
    assert!(rows.iter().all(|r| r.excel_row < switch));
}

#[test]
fn gbk_then_utf8_is_refused_with_its_row() {
    let dir = tmp();
    let path = dir.path().join("mixed.csv");
    let (bytes, switch) = switching_file(false);
    fs::write(&path, &bytes).expect("write");
    let (err, rows) = fail_with(&path, &specs(), Limits::default());
    assert!(matches!(err, TabularError::EncodingChanged { row, .. } if row == switch), "{err:?}");
    assert!(err.to_string().contains("GBK"), "{err}");
    assert_chinese(&err.to_string(), "mixed.csv");
    assert!(rows.iter().flat_map(|r| &r.cells).all(|c| !matches!(c, Cell::Text(t) if t.contains('\u{FFFD}') || t.contains("鏉"))));
}

#[test]
fn an_over_long_line_is_refused_with_its_row() {
    let dir = tmp();
    let path = dir.path().join("long.csv");
    // A quote left open makes the rest of the file one line; here, 8 MB of it.
    let mut s = String::from("姓名,身份证号,村\n张三,1,龙潭村\n李四,\"");
    s.push_str(&"x".repeat(8 << 20));
    fs::write(&path, s).expect("write");
    let limits = Limits { row_bytes: 64 * 1024, ..Limits::default() };
    let started = std::time::Instant::now();
    let (err, rows) = fail_with(&path, &specs(), limits);
    assert!(started.elapsed().as_secs() < 5, "refused at the limit, not after reading the line");
    assert!(matches!(err, TabularError::RowTooLarge { row: 3, sheet: None, .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("文件「long.csv」第 3 行的内容超过 64 KB"), "{msg}");
    assert_chinese(&msg, "long.csv");
    assert!(rows.is_empty(), "the header is searched in the first rows, which the long line is among");
}

#[test]
fn an_over_long_cell_is_refused_with_row_and_column() {
    let dir = tmp();
    let path = dir.path().join("cell.csv");
    let mut s = String::from("姓名,身份证号,村\n张三,1,龙潭村\n");
    for i in 0..30 {
        s.push_str(&format!("王{i},2,村\n"));
    }
    s.push_str(&format!("赵六,3,{}\n", "长".repeat(101)));
    fs::write(&path, s).expect("write");
    let limits = Limits { cell_chars: 100, ..Limits::default() };
    let (err, rows) = fail_with(&path, &specs(), limits);
    assert!(matches!(&err, TabularError::CellTooLarge { row: 33, column: Some(c), limit: 100, .. } if c == "C"), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("文件「cell.csv」第 33 行 C 列的单元格超过 100 个字符"), "{msg}");
    assert_chinese(&msg, "cell.csv");
    assert_eq!(rows.len(), 31, "rows before it were read");
    // Exactly at the limit is fine.
    fs::write(&path, format!("姓名,身份证号,村\n赵六,3,{}\n", "长".repeat(100))).expect("write");
    let (_, rows) = read_all_with(&path, &specs(), limits);
    assert_eq!(rows.len(), 1);
}

#[test]
fn too_many_columns_are_refused() {
    let dir = tmp();
    let path = dir.path().join("wide.csv");
    let s = format!("姓名,身份证号\n张三,1{}\n", ",x".repeat(60));
    fs::write(&path, s).expect("write");
    let limits = Limits { row_cells: 50, ..Limits::default() };
    let (err, _) = fail_with(&path, &specs(), limits);
    assert!(matches!(err, TabularError::TooManyColumns { row: 2, limit: 50, .. }), "{err:?}");
    assert_chinese(&err.to_string(), "wide.csv");
}
