//! Every sheet of a workbook, in turn: which have a matching header, and what the others
//! look like; and rows that carry no data.

mod common;

use std::convert::Infallible;

use common::{put, read_all, specs, text, tmp, xlsx};
use rust_xlsxwriter::{Format, Workbook};
use taizhang_tabular::{open, Cell, RawRow, ReadError, SheetInfo, SheetLooks, TabularError};

fn village(ws: &mut rust_xlsxwriter::Worksheet, name: &str, people: &[&str]) {
    ws.set_name(name).expect("name");
    put(ws, 0, &[&format!("{name}低保花名册")]);
    put(ws, 1, &["序号", "姓名", "身份证号", "村"]);
    for (i, p) in (2u32..).zip(people) {
        ws.write_number(i, 0, f64::from(i - 1)).expect("w");
        put(ws, i, &["", p, "431224198001010011", name]);
    }
}

#[test]
fn each_sheet_is_read_in_turn_and_the_others_say_why_not() {
    let dir = tmp();
    let path = dir.path().join("全镇.xlsx");
    let mut wb = Workbook::new();
    let notes = wb.add_worksheet();
    notes.set_name("填表说明").expect("name");
    put(notes, 0, &["填表说明"]);
    put(
        notes,
        1,
        &[
            "1.",
            "身份证号请设置为文本格式，不要输入空格，18 位，末位为 X 的用大写",
        ],
    );
    put(notes, 2, &["2.", "每个村一张表，表名写村名"]);
    village(wb.add_worksheet(), "龙潭村", &["张三", "李四"]);
    let prose = wb.add_worksheet();
    prose.set_name("备注").expect("name");
    put(prose, 0, &["本表由各村于每月 25 日前报镇民政办，逾期未报的视为无变化，由镇里按上月数据汇总上报县局"]);
    wb.add_worksheet().set_name("Sheet3").expect("name");
    let other = wb.add_worksheet();
    other.set_name("统计").expect("name");
    put(other, 0, &["项目", "户数", "人数"]);
    put(other, 1, &["合计", "12", "30"]);
    village(wb.add_worksheet(), "新屋村", &["王五"]);
    let list = wb.add_worksheet();
    list.set_name("下拉").expect("name");
    put(list, 0, &["龙潭村"]);
    list.set_hidden(true);
    wb.save(&path).expect("save");

    let mut src = open(&path).expect("open");
    let sheets = src.sheets();
    assert_eq!(
        sheets.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        [
            "填表说明",
            "龙潭村",
            "备注",
            "Sheet3",
            "统计",
            "新屋村",
            "下拉"
        ]
    );
    assert_eq!(
        sheets.last(),
        Some(&SheetInfo {
            name: "下拉".to_string(),
            hidden: true
        })
    );
    assert!(sheets.iter().take(6).all(|s| !s.hidden));

    let mut read = Vec::new();
    let mut skipped = Vec::new();
    for s in src.sheets() {
        let mut rows = 0;
        match src.read_sheet(
            &s.name,
            &specs(),
            &mut |_r: RawRow| -> Result<(), Infallible> {
                rows += 1;
                Ok(())
            },
        ) {
            Ok(layout) => {
                assert_eq!(layout.rows_read, rows);
                read.push((s.name, rows));
            }
            Err(ReadError::Tabular(TabularError::NoHeader {
                sheet, looks, file, ..
            })) => {
                assert_eq!(file, "全镇.xlsx");
                skipped.push((sheet, looks));
            }
            Err(e) => panic!("{}: {e}", s.name),
        }
    }
    assert_eq!(read, [("龙潭村".to_string(), 2), ("新屋村".to_string(), 1)]);
    assert_eq!(
        skipped,
        [
            ("填表说明".to_string(), SheetLooks::Instructions),
            ("备注".to_string(), SheetLooks::Instructions),
            ("Sheet3".to_string(), SheetLooks::Empty),
            ("统计".to_string(), SheetLooks::Table),
            ("下拉".to_string(), SheetLooks::Table),
        ]
    );

    // The same answers from the header alone, without handing out a row.
    let layout = src.find_header("新屋村", &specs()).expect("header");
    assert_eq!((layout.header_row, layout.rows_read), (2, 0));
    let err = src
        .find_header("填表说明", &specs())
        .expect_err("no header");
    assert!(matches!(
        err,
        TabularError::NoHeader {
            looks: SheetLooks::Instructions,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "文件「全镇.xlsx」的工作表「填表说明」找不到表头行：这张表像是填表说明，前 20 行中没有一列能对应到 「姓名」「身份证号」「村」「保障金额(元)」"
    );
    assert!(matches!(
        src.find_header("没有这张表", &specs()),
        Err(TabularError::UnknownSheet(_))
    ));
}

#[test]
fn a_csv_is_one_sheet_named_after_the_file() {
    let dir = tmp();
    let path = dir.path().join("龙潭村.csv");
    std::fs::write(&path, "说明：本表无数据\n").expect("write");
    let mut src = open(&path).expect("open");
    assert_eq!(
        src.sheets(),
        [SheetInfo {
            name: "龙潭村".to_string(),
            hidden: false
        }]
    );
    let err = src.find_header("龙潭村", &specs()).expect_err("no header");
    assert!(
        matches!(err, TabularError::NoHeader { looks: SheetLooks::Instructions, ref sheet, .. } if sheet == "龙潭村"),
        "{err:?}"
    );
}

#[test]
fn blank_but_formatted_rows_are_not_data() {
    let dir = tmp();
    let bordered = Format::new()
        .set_border(rust_xlsxwriter::FormatBorder::Thin)
        .set_background_color("#FFFF00");
    let path = xlsx(dir.path(), "blank.xlsx", |ws| {
        put(ws, 0, &["序号", "姓名", "身份证号", "村"]);
        put(ws, 1, &["", "张三", "431224198001010011", "龙潭村"]);
        // Rows 3–40: borders and fill, a 序号 and nothing else, spaces typed over values.
        for r in 2..40u32 {
            for c in 0..6u16 {
                ws.write_blank(r, c, &bordered).expect("w");
            }
            ws.set_row_format(r, &bordered).expect("w");
        }
        for r in 10..20u32 {
            ws.write_number(r, 0, f64::from(r)).expect("w");
        }
        put(ws, 25, &["", "  ", "\u{3000}", " "]);
        put(ws, 40, &["", "李四", "431224198001010011", "新屋村"]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(
        rows.iter().map(|r| r.excel_row).collect::<Vec<_>>(),
        [2, 41]
    );
    assert_eq!(layout.rows_read, 2);
    assert_eq!(layout.empty_rows_skipped, 38);
    assert!(
        layout.skipped_text_rows.is_empty(),
        "{:?}",
        layout.skipped_text_rows
    );
    assert!(rows.iter().all(|r| r.leading_text.is_none()));
}

#[test]
fn text_outside_the_bound_columns_is_kept_to_mark_rows() {
    let dir = tmp();
    let path = xlsx(dir.path(), "sum.xlsx", |ws| {
        put(ws, 0, &["序号", "姓名", "身份证号", "村", "保障金额"]);
        put(ws, 1, &["1", "张三", "431224198001010011", "龙潭村", "350"]);
        put(ws, 2, &["2", "李四", "431224198001010012", "龙潭村", "400"]);
        // A total under 序号 with only the amount beside it.
        put(ws, 3, &["合计", "", "", "", "750"]);
        // A signature line and a note in column A alone.
        put(ws, 5, &["制表人：王五          审核人：赵六"]);
        put(ws, 6, &[&format!("填表说明：{}", "每户一行。".repeat(20))]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].leading_text, None, "a 序号 is not kept");
    assert_eq!(rows[2].excel_row, 4);
    assert_eq!(rows[2].leading_text.as_deref(), Some("合计"));
    assert_eq!(
        rows[2].cells,
        [Cell::Empty, Cell::Empty, Cell::Empty, text("750")]
    );
    assert_eq!(layout.empty_rows_skipped, 3);
    assert_eq!(layout.skipped_text_rows.len(), 2);
    assert_eq!(
        layout.skipped_text_rows[0],
        (6, "制表人：王五          审核人：赵六".to_string())
    );
    let (row, note) = &layout.skipped_text_rows[1];
    assert_eq!(
        (*row, note.chars().count()),
        (7, taizhang_tabular::LEADING_TEXT_CHARS)
    );
    assert!(note.starts_with("填表说明：每户一行。"));
}
