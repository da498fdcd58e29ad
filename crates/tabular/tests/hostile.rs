//! Hostile workbooks: each limit is met with a small file (the limits lowered), refused in
//! Chinese naming the file, sheet, row, column and limit it can, before memory grows.

mod common;

use std::io::{Cursor, Write};
use std::time::Instant;

use common::{assert_chinese, fail_with, read_all_with, specs, tmp};
use taizhang_tabular::{Limits, TabularError, MAX_SHARED_STRING_CHARS};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;

/// A workbook written part by part: one sheet 花名册 whose `<sheetData>` holds `rows`, and
/// a shared-string table holding `shared` (`<si>` elements). Without `with_rels` the
/// workbook's relationships are left out, which our reader declines and calamine must try.
fn workbook(shared: &str, rows: &str, with_rels: bool) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let o = SimpleFileOptions::default();
    let mut put = |name: &str, text: &str| {
        zip.start_file(name, o).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    };
    put(
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    put(
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    if with_rels {
        put("xl/_rels/workbook.xml.rels", RELS);
    }
    put(
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr/><sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    put(
        "xl/styles.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="1"><xf numFmtId="0"/></cellXfs></styleSheet>"#,
    );
    put(
        "xl/sharedStrings.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{shared}</sst>"#
        ),
    );
    put(
        "xl/worksheets/sheet1.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
        ),
    );
    zip.finish().expect("zip").into_inner()
}

/// Makes the zip headers of `entry` claim it inflates to `size` bytes: the bomb that lies.
fn claim_size(bytes: &mut [u8], entry: &str, size: u32) {
    let name = entry.as_bytes();
    let mut patched = 0;
    let mut i = 0;
    while i + 46 <= bytes.len() {
        let sig = u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let (size_at, name_len_at, name_at) = match sig {
            0x0403_4b50 => (i + 22, i + 26, i + 30),
            0x0201_4b50 => (i + 24, i + 28, i + 46),
            _ => {
                i += 1;
                continue;
            }
        };
        let len = usize::from(u16::from_le_bytes([
            bytes[name_len_at],
            bytes[name_len_at + 1],
        ]));
        if bytes.get(name_at..name_at + len) == Some(name) {
            bytes[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        i += 4;
    }
    assert_eq!(patched, 2, "local and central header of {entry}");
}

fn header_row() -> String {
    r#"<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>身份证号</t></is></c><c r="C1" t="inlineStr"><is><t>村</t></is></c></row>"#.to_string()
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn a_shared_string_bomb_with_honest_headers_is_refused_before_inflating() {
    let dir = tmp();
    let bomb = format!("<si><t>{}</t></si>", "A".repeat(8 << 20));
    let bytes = workbook(&bomb, &header_row(), true);
    assert!(bytes.len() < 64 * 1024, "{} bytes", bytes.len());
    let path = write(&dir, "bomb.xlsx", &bytes);
    let limits = Limits {
        ratio_grace_bytes: 1 << 20,
        ..Limits::default()
    };
    let started = Instant::now();
    let (err, _) = fail_with(&path, &specs(), limits);
    assert!(started.elapsed().as_millis() < 2000);
    assert!(
        matches!(&err, TabularError::CompressionRatio { part, limit: 250, .. } if part == "共享文本表"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("文件「bomb.xlsx」中的共享文本表解压后是压缩时的 250 倍以上"),
        "{msg}"
    );
    assert_chinese(&msg, "bomb.xlsx");
}

#[test]
fn a_shared_string_bomb_whose_headers_lie_is_refused_at_the_string_limit() {
    let dir = tmp();
    // One text run, and the same text cut into runs by entities: one XML event grows past
    // its bound in the first, the string past its characters in the second.
    let plain = format!("<si><t>{}</t></si>", "A".repeat(8 << 20));
    let runs = format!("<si><t>{}</t></si>", "AAAAAAA&amp;".repeat(1 << 20));
    for (name, bomb) in [("plain.xlsx", plain), ("runs.xlsx", runs)] {
        let mut bytes = workbook(&bomb, &header_row(), true);
        claim_size(&mut bytes, "xl/sharedStrings.xml", 4096);
        let path = write(&dir, name, &bytes);
        let started = Instant::now();
        let (err, _) = fail_with(&path, &specs(), Limits::default());
        assert!(started.elapsed().as_millis() < 2000);
        assert!(
            matches!(
                err,
                TabularError::SharedStringTooLarge {
                    index: 1,
                    limit: MAX_SHARED_STRING_CHARS,
                    ..
                }
            ),
            "{name}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("共享文本表中第 1 条文本超过 32767 个字符"),
            "{msg}"
        );
        assert_chinese(&msg, name);
    }
}

#[test]
fn a_bomb_in_a_workbook_our_reader_declines_is_refused_before_calamine_opens_it() {
    let dir = tmp();
    let bomb = format!("<si><t>{}</t></si>", "A".repeat(8 << 20));
    let mut bytes = workbook(&bomb, &header_row(), false);
    claim_size(&mut bytes, "xl/sharedStrings.xml", 4096);
    let path = write(&dir, "fallback.xlsx", &bytes);
    let (err, _) = fail_with(&path, &specs(), Limits::default());
    assert!(
        matches!(err, TabularError::SharedStringTooLarge { index: 1, .. }),
        "{err:?}"
    );
    assert_chinese(&err.to_string(), "fallback.xlsx");
}

#[test]
fn the_shared_string_table_is_bounded_as_a_whole() {
    let dir = tmp();
    let shared: String = (0..3000)
        .map(|i| format!("<si><t>名字{i}</t></si>"))
        .collect();
    let path = write(&dir, "sst.xlsx", &workbook(&shared, &header_row(), true));
    let limits = Limits {
        shared_strings_bytes: 20_000,
        ..Limits::default()
    };
    let (err, _) = fail_with(&path, &specs(), limits);
    assert!(
        matches!(
            err,
            TabularError::SharedStringsTooLarge { limit: 20_000, .. }
        ),
        "{err:?}"
    );
    assert_chinese(&err.to_string(), "sst.xlsx");
    // Under the default limits the same file reads.
    let (layout, _) = read_all_with(&path, &specs(), Limits::default());
    assert_eq!(layout.header_row, 1);
}

#[test]
fn an_over_long_cell_is_refused_with_sheet_row_and_column() {
    let dir = tmp();
    let limits = Limits {
        cell_chars: 100,
        ..Limits::default()
    };
    let long = "长".repeat(101);
    // Inline in the sheet, and through the shared-string table (whose own limit is higher).
    let inline = format!(
        r#"{}<row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c></row><row r="3"><c r="B3" t="inlineStr"><is><t>{long}</t></is></c></row>"#,
        header_row()
    );
    let shared = format!(
        r#"{}<row r="2"><c r="A2" t="inlineStr"><is><t>张三</t></is></c></row><row r="3"><c r="B3" t="s"><v>0</v></c></row>"#,
        header_row()
    );
    for (name, sst, rows) in [
        ("inline.xlsx", String::new(), inline),
        ("shared.xlsx", format!("<si><t>{long}</t></si>"), shared),
    ] {
        let path = write(&dir, name, &workbook(&sst, &rows, true));
        let (err, _) = fail_with(&path, &specs(), limits);
        assert!(
            matches!(&err, TabularError::CellTooLarge { row: 3, column: Some(c), sheet: Some(s), limit: 100, .. } if c == "B" && s == "花名册"),
            "{name}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "文件「{name}」工作表「花名册」第 3 行 B 列的单元格超过 100 个字符"
            )),
            "{msg}"
        );
        assert_chinese(&msg, name);
    }
}

#[test]
fn one_shared_string_repeated_along_a_row_meets_the_row_limit() {
    let dir = tmp();
    // 20 cells pointing at one 1,000-character string: 20,000 bytes from a few hundred.
    let cells: String = (0..20)
        .map(|c| format!(r#"<c r="{}4" t="s"><v>0</v></c>"#, char::from(b'A' + c)))
        .collect();
    let rows = format!(r#"{}<row r="4">{cells}</row>"#, header_row());
    let path = write(
        &dir,
        "amplified.xlsx",
        &workbook(
            &format!("<si><t>{}</t></si>", "x".repeat(1000)),
            &rows,
            true,
        ),
    );
    let limits = Limits {
        row_bytes: 10_000,
        ..Limits::default()
    };
    let (err, _) = fail_with(&path, &specs(), limits);
    assert!(
        matches!(
            err,
            TabularError::RowTooLarge {
                row: 4,
                limit: 10_000,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("文件「amplified.xlsx」工作表「花名册」第 4 行的内容超过 10000 字节"),
        "{msg}"
    );
    assert_chinese(&msg, "amplified.xlsx");
}

#[test]
fn a_cell_past_the_last_column_is_refused() {
    let dir = tmp();
    let rows = format!(
        r#"{}<row r="2"><c r="AD2" t="inlineStr"><is><t>远</t></is></c></row>"#,
        header_row()
    );
    let path = write(&dir, "wide.xlsx", &workbook("", &rows, true));
    let limits = Limits {
        row_cells: 20,
        ..Limits::default()
    };
    let (err, _) = fail_with(&path, &specs(), limits);
    assert!(
        matches!(
            err,
            TabularError::TooManyColumns {
                row: 2,
                limit: 20,
                ..
            }
        ),
        "{err:?}"
    );
    assert_chinese(&err.to_string(), "wide.xlsx");
}

#[test]
fn a_sheet_over_its_size_limit_is_refused_whatever_its_headers_claim() {
    let dir = tmp();
    let body: String = (2..3000)
        .map(|r| {
            format!(r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>张{r}</t></is></c></row>"#)
        })
        .collect();
    let rows = format!("{}{body}", header_row());
    let honest = workbook("", &rows, true);
    let mut lying = honest.clone();
    claim_size(&mut lying, "xl/worksheets/sheet1.xml", 1000);
    let limits = Limits {
        entry_bytes: 50_000,
        ..Limits::default()
    };
    for (name, bytes) in [("honest.xlsx", honest), ("lying.xlsx", lying)] {
        let path = write(&dir, name, &bytes);
        let (err, _) = fail_with(&path, &specs(), limits);
        assert!(
            matches!(&err, TabularError::EntryTooLarge { part, limit: 50_000, .. } if part == "工作表「花名册」"),
            "{name}: {err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "文件「{name}」中的工作表「花名册」解压后超过 50000 字节"
            )),
            "{msg}"
        );
        assert_chinese(&msg, name);
    }
}

#[test]
fn a_sheet_that_inflates_like_a_bomb_is_refused() {
    let dir = tmp();
    let rows = format!("{}{}", header_row(), "<row/>".repeat(2 << 20));
    let mut bytes = workbook("", &rows, true);
    claim_size(&mut bytes, "xl/worksheets/sheet1.xml", 1000);
    let path = write(&dir, "rows.xlsx", &bytes);
    // The zip crate packs this about 230:1; real sheet XML stays under 30:1.
    let limits = Limits {
        ratio_grace_bytes: 1 << 20,
        entry_ratio: 100,
        ..Limits::default()
    };
    let (err, _) = fail_with(&path, &specs(), limits);
    assert!(
        matches!(&err, TabularError::CompressionRatio { part, limit: 100, .. } if part == "工作表「花名册」"),
        "{err:?}"
    );
    assert_chinese(&err.to_string(), "rows.xlsx");
}
