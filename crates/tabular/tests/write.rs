mod common;

use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use common::{read_all, text, tmp};
use taizhang_tabular::{
    open, write_template, Cell, ColumnSpec, CsvOut, OutCell, OutColumn, OutKind, RawRow, XlsxOut,
    LIST_SHEET,
};

fn zip_text(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("open");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut s = String::new();
    zip.by_name(name)
        .expect(name)
        .read_to_string(&mut s)
        .expect("read");
    s
}

fn col_width(sheet_xml: &str, col: u32) -> f64 {
    let key = format!(r#"<col min="{col}" max="#);
    let at = sheet_xml.find(&key).expect("col element");
    let rest = &sheet_xml[at..];
    let w = rest.find("width=\"").expect("width") + 7;
    let end = rest[w..].find('"').expect("quote");
    rest[w..w + end].parse().expect("number")
}

fn columns() -> Vec<OutColumn> {
    vec![
        OutColumn::new("姓名", OutKind::Text),
        OutColumn::new("身份证号", OutKind::IdText).with_note("必填；18 位，末位可为 X"),
        OutColumn::new("人数", OutKind::Int),
        OutColumn::new("保障金额（元）", OutKind::Money),
        OutColumn::new("面积（亩）", OutKind::Scaled(2)),
        OutColumn::new("发放日期", OutKind::Date),
        OutColumn::new("是否户主", OutKind::Bool),
        OutColumn::new(
            "保障类别",
            OutKind::Enum(vec!["A类".into(), "B类".into(), "C类".into()]),
        )
        .with_note("从下拉列表选择"),
        OutColumn::new("备注", OutKind::Text),
    ]
}

fn specs_for(cols: &[OutColumn]) -> Vec<ColumnSpec> {
    cols.iter()
        .map(|c| ColumnSpec::new(&c.header, &[&c.header]))
        .collect()
}

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 1, 5).expect("date")
}

fn sample_row() -> Vec<OutCell> {
    vec![
        OutCell::Text("张三".into()),
        OutCell::Text("43122419800101001X".into()),
        OutCell::Int(3),
        OutCell::Money(123450),
        OutCell::Scaled {
            raw: 1250,
            scale: 2,
        },
        OutCell::Date(date()),
        OutCell::Bool(true),
        OutCell::Text("B类".into()),
        OutCell::Empty,
    ]
}

#[test]
fn xlsx_round_trip_of_every_kind() {
    let dir = tmp();
    let path = dir.path().join("out.xlsx");
    let cols = columns();
    let mut out = XlsxOut::create(
        &path,
        "低保",
        cols.clone(),
        Some("北斗溪镇2023年低保金发放花名册"),
    )
    .expect("create");
    out.write_row(&sample_row()).expect("row");
    // An ID given as an integer in an ID column must still land as text.
    out.write_row(&[
        OutCell::Text("李四".into()),
        OutCell::Int(110105194912310021),
        OutCell::Empty,
        OutCell::Money(-50),
    ])
    .expect("row");
    assert_eq!(out.rows_written(), 2);
    out.finish().expect("finish");

    let (layout, rows) = read_all(&path, &specs_for(&cols));
    assert_eq!(layout.header_row, 2);
    assert!(layout.missing_specs.is_empty());
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].cells,
        vec![
            text("张三"),
            text("43122419800101001X"),
            Cell::Float(3.0),
            Cell::Float(1234.5),
            Cell::Float(12.5),
            Cell::DateTime(44931.0),
            Cell::Bool(true),
            text("B类"),
            Cell::Empty,
        ]
    );
    assert_eq!(rows[1].cells[1], text("110105194912310021"));
    assert_eq!(rows[1].cells[3], Cell::Float(-0.5));

    let sheet = zip_text(&path, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains(r#"ySplit="2""#) && sheet.contains(r#"state="frozen""#),
        "{sheet}"
    );
    assert!(sheet.contains(r#"<mergeCell ref="A1:I1"/>"#));
    // 身份证号: 18 ASCII chars × 1.1 + 2 padding = 21.8 (Excel stores a
    // slightly larger pixel-rounded value); 姓名 is held at the minimum 6.
    let id_width = col_width(&sheet, 2);
    assert!((21.8..23.0).contains(&id_width), "{id_width}");
    let name_width = col_width(&sheet, 1);
    assert!((6.0..7.0).contains(&name_width), "{name_width}");
    // 保障金额（元）: 4 CJK + 2 full-width brackets + 1 = 14 + padding.
    let amount_width = col_width(&sheet, 4);
    assert!((16.0..17.0).contains(&amount_width), "{amount_width}");
    let styles = zip_text(&path, "xl/styles.xml");
    for fmt in ["#,##0.00", "yyyy-mm-dd"] {
        assert!(styles.contains(fmt), "{fmt} missing: {styles}");
    }
    assert!(
        styles.contains(r#"numFmtId="49""#),
        "text format @ missing: {styles}"
    );
}

#[test]
fn xlsx_rejects_overlong_rows() {
    let dir = tmp();
    let mut out = XlsxOut::create(
        &dir.path().join("x.xlsx"),
        "表",
        vec![OutColumn::new("姓名", OutKind::Text)],
        None,
    )
    .expect("create");
    let err = out
        .write_row(&[OutCell::Empty, OutCell::Empty])
        .expect_err("too long");
    assert_eq!(
        err.to_string(),
        "写入的数据有误：这一行有 2 个值，但表格只有 1 列"
    );
}

#[test]
fn xlsx_without_title_has_header_on_row_1() {
    let dir = tmp();
    let path = dir.path().join("plain.xlsx");
    let mut out = XlsxOut::create(
        &path,
        "a[b]",
        vec![OutColumn::new("姓名", OutKind::Text)],
        None,
    )
    .expect("create");
    for i in 0..3000 {
        out.write_row(&[OutCell::Text(format!("名{i}"))])
            .expect("row");
    }
    out.finish().expect("finish");
    let src = open(&path).expect("open");
    assert_eq!(src.sheet_names(), vec!["a_b_".to_string()]);
    let (layout, rows) = read_all(&path, &[ColumnSpec::new("n", &["姓名"])]);
    assert_eq!(layout.header_row, 1);
    assert_eq!(rows.len(), 3000);
    assert_eq!(rows[2999].excel_row, 3001);
}

#[test]
fn csv_round_trip() {
    let dir = tmp();
    let path = dir.path().join("out.csv");
    let cols = columns();
    let mut out = CsvOut::create(&path, &cols).expect("create");
    out.write_row(&sample_row()).expect("row");
    out.write_row(&[
        OutCell::Text("逗号,引号\"".into()),
        OutCell::Empty,
        OutCell::Empty,
        OutCell::Money(-5),
    ])
    .expect("row");
    out.finish().expect("finish");

    let bytes = std::fs::read(&path).expect("read");
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    let (layout, rows) = read_all(&path, &specs_for(&cols));
    assert_eq!(layout.header_row, 1);
    assert_eq!(
        rows[0].cells,
        vec![
            text("张三"),
            text("43122419800101001X"),
            text("3"),
            text("1234.50"),
            text("12.50"),
            text("2023-01-05"),
            text("是"),
            text("B类"),
            Cell::Empty,
        ]
    );
    assert_eq!(rows[1].cells[0], text("逗号,引号\""));
    assert_eq!(rows[1].cells[3], text("-0.05"));
}

#[test]
fn csv_excel_text_ids() {
    let dir = tmp();
    let path = dir.path().join("ids.csv");
    let cols = vec![
        OutColumn::new("姓名", OutKind::Text),
        OutColumn::new("身份证号", OutKind::IdText),
    ];
    let mut out = CsvOut::create(&path, &cols).expect("create");
    out.set_excel_text_ids(true);
    out.write_row(&[
        OutCell::Text("甲".into()),
        OutCell::Text("431224198001010011".into()),
    ])
    .expect("row");
    out.finish().expect("finish");
    let raw = std::fs::read_to_string(&path).expect("read");
    assert!(raw.contains(r#""=""431224198001010011""""#), "{raw}");
    let (_, rows) = read_all(&path, &specs_for(&cols));
    assert_eq!(rows[0].cells[1], text("431224198001010011"));
}

#[test]
fn template_has_list_sheet_validation_and_text_cells() {
    let dir = tmp();
    let path = dir.path().join("模板.xlsx");
    let cols = columns();
    write_template(&path, "低保花名册", &cols, "北斗溪镇低保花名册（导入模板）").expect("template");

    let src = open(&path).expect("open");
    assert_eq!(
        src.sheet_names(),
        vec!["低保花名册".to_string(), LIST_SHEET.to_string()]
    );
    let mut src = src;
    let mut n = 0;
    let layout = src
        .read_sheet(
            "低保花名册",
            &specs_for(&cols),
            &mut |_r: RawRow| -> Result<(), String> {
                n += 1;
                Ok(())
            },
        )
        .expect("read");
    assert_eq!(layout.header_row, 2);
    assert_eq!(layout.notes_row, Some(3));
    assert!(layout.missing_specs.is_empty());
    assert_eq!(n, 0, "an empty template has no data rows");

    let sheet = zip_text(&path, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<dataValidation "), "{sheet}");
    assert!(sheet.contains(r#"type="list""#));
    assert!(sheet.contains(r#"sqref="H4:H1000""#), "{sheet}");
    assert!(
        sheet.contains("<formula1>'选项'!$A$1:$A$3</formula1>"),
        "{sheet}"
    );
    assert!(sheet.contains(r#"ySplit="3""#));
    assert!(
        sheet.contains(r#"<c r="B1000" s="#),
        "ID cells are pre-formatted down to row 1000"
    );
    let workbook = zip_text(&path, "xl/workbook.xml");
    assert!(
        workbook.contains(r#"name="选项" sheetId="2" state="hidden""#),
        "{workbook}"
    );
    let list = zip_text(&path, "xl/worksheets/sheet2.xml");
    assert!(list.contains("<c r=\"A3\""));
    let notes = zip_text(&path, "xl/sharedStrings.xml");
    assert!(notes.contains("必填；18 位，末位可为 X"));
    assert!(notes.contains("说明：从下拉列表选择"));
}

#[test]
fn filled_template_reads_back() {
    let dir = tmp();
    let path = dir.path().join("t.xlsx");
    let cols = vec![
        OutColumn::new("姓名", OutKind::Text).with_note("必填"),
        OutColumn::new("身份证号", OutKind::IdText).with_note("18 位"),
    ];
    write_template(&path, "名单", &cols, "名单").expect("template");
    // A clerk filling the template is simulated by the reader alone: the
    // empty template must yield the header and nothing else.
    let (layout, rows) = read_all(&path, &specs_for(&cols));
    assert_eq!(
        (layout.header_row, layout.notes_row, rows.len()),
        (2, Some(3), 0)
    );
    assert_eq!(layout.empty_rows_skipped, 997);
}

#[test]
fn readers_and_writers_can_move_to_a_worker_thread() {
    fn send<T: Send>() {}
    send::<taizhang_tabular::Source>();
    send::<XlsxOut>();
    send::<CsvOut>();
    send::<taizhang_tabular::TabularError>();
}

#[test]
fn a_value_longer_than_a_cell_holds_is_cut_not_an_error() {
    let dir = tmp();
    let path = dir.path().join("错误清单.xlsx");
    let cols = vec![OutColumn::new("行号", OutKind::Int), OutColumn::new("值", OutKind::Text), OutColumn::new("原因", OutKind::Text)];
    let mut out = XlsxOut::create(&path, "错误清单", cols.clone(), None).expect("create");
    let long = "身".repeat(100_000);
    out.write_row(&[OutCell::Int(7), OutCell::Text(long), OutCell::Text("超过字段长度".into())]).expect("a long value is written");
    out.write_row(&[OutCell::Int(8), OutCell::Text("短".into()), OutCell::Empty]).expect("row");
    out.finish().expect("finish");
    let (_, rows) = read_all(&path, &specs_for(&cols));
    assert_eq!(rows.len(), 2);
    let Cell::Text(cut) = &rows[0].cells[1] else { panic!("{:?}", rows[0].cells[1]) };
    assert_eq!(cut.chars().count(), taizhang_tabular::MAX_CELL_CHARS);
    assert!(cut.starts_with("身身身"));
    assert!(cut.ends_with("……（共 100000 个字符，超过 Excel 单元格上限，已截断）"), "{}", &cut[cut.len() - 120..]);
    assert_eq!(rows[1].cells[1], text("短"));
}
