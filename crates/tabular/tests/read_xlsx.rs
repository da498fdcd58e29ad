mod common;

use common::{put, read_all, read_err, specs, text, tmp, xlsx};
use rust_xlsxwriter::{ExcelDateTime, Format};
use taizhang_tabular::{open, Cell, ColumnSpec, FileFormat, RawRow, ReadError};

#[test]
fn title_rows_above_header_and_shared_strings() {
    let dir = tmp();
    let path = xlsx(dir.path(), "a.xlsx", |ws| {
        put(ws, 0, &["北斗溪镇2023年低保金发放花名册"]);
        put(ws, 1, &["填报单位：北斗溪镇民政办", "", "日期：2023-07-31"]);
        put(ws, 2, &["序号", "姓名", "身份证号", "村", "保障金额（元）"]);
        ws.write_number(3, 0, 1).expect("w");
        put(ws, 3, &["", "张三", "11010519491231002X", "龙潭村"]);
        ws.write_number(3, 4, 350.5).expect("w");
        ws.write_number(4, 0, 2).expect("w");
        put(ws, 4, &["", "李四", "431224198001010011", "龙潭村"]);
        ws.write_number(4, 4, 400).expect("w");
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(layout.header_row, 3);
    assert!(
        layout.unknown_columns.is_empty(),
        "{:?}",
        layout.unknown_columns
    );
    assert!(layout.missing_specs.is_empty());
    assert_eq!(layout.rows_read, 2);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].excel_row, 4);
    assert_eq!(
        rows[0].cells,
        vec![
            text("张三"),
            text("11010519491231002X"),
            text("龙潭村"),
            Cell::Float(350.5)
        ]
    );
    assert_eq!(rows[1].excel_row, 5);
    let letters: Vec<_> = layout
        .columns
        .iter()
        .map(|c| (c.letter.as_str(), c.spec))
        .collect();
    assert_eq!(letters, vec![("B", 0), ("C", 1), ("D", 2), ("E", 3)]);
}

#[test]
fn merged_two_row_header() {
    let dir = tmp();
    let group = Format::new();
    let path = xlsx(dir.path(), "b.xlsx", |ws| {
        put(ws, 0, &["2023年低保花名册"]);
        ws.merge_range(1, 0, 2, 0, "序号", &group).expect("m");
        ws.merge_range(1, 1, 1, 3, "户主信息", &group).expect("m");
        ws.merge_range(1, 4, 2, 4, "所在村", &group).expect("m");
        ws.merge_range(1, 5, 1, 6, "发放", &group).expect("m");
        put(
            ws,
            2,
            &["", "姓名", "身份证号", "电话", "", "保障金额", "备注"],
        );
        put(
            ws,
            3,
            &[
                "1",
                "王五",
                "11010519491231002X",
                "13800000000",
                "新屋村",
                "300",
                "",
            ],
        );
    });
    let mut specs = specs();
    specs.push(ColumnSpec::new("phone", &["电话", "联系电话"]));
    let (layout, rows) = read_all(&path, &specs);
    assert_eq!(layout.header_row, 3);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].excel_row, 4);
    assert_eq!(
        rows[0].cells,
        vec![
            text("王五"),
            text("11010519491231002X"),
            text("新屋村"),
            text("300"),
            text("13800000000")
        ]
    );
    assert_eq!(
        layout.unknown_columns,
        vec![("G".to_string(), "备注".to_string())]
    );
}

#[test]
fn group_cell_spans_columns_only_through_merge() {
    // "保障金额" is merged over two columns and only the first has a label
    // below it: only the merge tells that the second column is the amount.
    // "备注" is one column drawn two wide and two high.
    let dir = tmp();
    let f = Format::new();
    let path = xlsx(dir.path(), "g.xlsx", |ws| {
        ws.merge_range(0, 0, 1, 0, "姓名", &f).expect("m");
        ws.merge_range(0, 1, 0, 2, "保障金额", &f).expect("m");
        ws.merge_range(0, 3, 1, 4, "备注", &f).expect("m");
        put(ws, 1, &["", "标准", ""]);
        put(ws, 2, &["赵六", "低保A类", "350", "无", ""]);
    });
    let specs = vec![
        ColumnSpec::new("name", &["姓名"]),
        ColumnSpec::new("amount", &["保障金额"]),
        ColumnSpec::new("remark", &["备注"]),
    ];
    let (layout, rows) = read_all(&path, &specs);
    assert_eq!(layout.header_row, 2);
    assert_eq!(rows[0].cells, vec![text("赵六"), text("350"), text("无")]);
    assert_eq!(
        layout.unknown_columns,
        vec![("B".to_string(), "标准".to_string())]
    );
    let letters: Vec<_> = layout.columns.iter().map(|c| c.letter.as_str()).collect();
    assert_eq!(letters, vec!["A", "C", "D"]);
}

#[test]
fn columns_in_any_order_and_normalised_headers() {
    let dir = tmp();
    let path = xlsx(dir.path(), "c.xlsx", |ws| {
        put(
            ws,
            0,
            &[
                " 保障金额\n（元） ",
                "所 在 村",
                "身份\n证号",
                "户主姓名",
                "Ｎｏ．",
            ],
        );
        put(ws, 1, &["120", "大溪村", "11010519491231002X", "孙八", "1"]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(layout.header_row, 1);
    assert_eq!(
        rows[0].cells,
        vec![
            text("孙八"),
            text("11010519491231002X"),
            text("大溪村"),
            text("120")
        ]
    );
    let id = layout
        .columns
        .iter()
        .find(|c| c.spec == 1)
        .expect("id column");
    assert_eq!((id.letter.as_str(), id.header.as_str()), ("C", "身份证号"));
    assert!(
        layout.unknown_columns.is_empty(),
        "No. is the sequence column"
    );
}

#[test]
fn sequence_only_and_trailing_empty_rows_are_skipped() {
    let dir = tmp();
    let fmt = Format::new().set_num_format("@");
    let path = xlsx(dir.path(), "d.xlsx", |ws| {
        put(ws, 0, &["序号", "姓名", "身份证号"]);
        put(ws, 1, &["1", "甲", "11010519491231002X"]);
        put(ws, 2, &["2", "", ""]);
        put(ws, 3, &["3", "乙", "11010519491231002X"]);
        put(ws, 4, &["", "  ", ""]);
        // Formatted but empty trailing rows, as Excel leaves behind.
        for r in 5..9 {
            ws.write_blank(r, 1, &fmt).expect("blank");
        }
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(
        rows.iter().map(|r| r.excel_row).collect::<Vec<_>>(),
        vec![2, 4]
    );
    assert_eq!(layout.rows_read, 2);
    // Row 3 (only 序号), row 5 (spaces), rows 6..=9 (formatted blanks).
    assert_eq!(layout.empty_rows_skipped, 6);
    assert_eq!(
        layout.missing_specs,
        vec!["village".to_string(), "amount".to_string()]
    );
}

#[test]
fn gaps_between_rows_count_as_empty() {
    let dir = tmp();
    let path = xlsx(dir.path(), "gap.xlsx", |ws| {
        put(ws, 0, &["姓名"]);
        put(ws, 1, &["甲"]);
        put(ws, 40, &["乙"]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(
        rows.iter().map(|r| r.excel_row).collect::<Vec<_>>(),
        vec![2, 41]
    );
    assert_eq!(layout.empty_rows_skipped, 38);
}

#[test]
fn unknown_column_reported() {
    let dir = tmp();
    let path = xlsx(dir.path(), "e.xlsx", |ws| {
        put(ws, 0, &["姓名", "身份证号", "开户行", "", "备注"]);
        put(ws, 1, &["甲", "1", "农商行", "x", "无"]);
    });
    let (layout, _) = read_all(&path, &specs());
    assert_eq!(
        layout.unknown_columns,
        vec![
            ("C".to_string(), "开户行".to_string()),
            ("E".to_string(), "备注".to_string())
        ]
    );
}

#[test]
fn duplicate_mapping_is_an_error() {
    let dir = tmp();
    let path = xlsx(dir.path(), "f.xlsx", |ws| {
        put(
            ws,
            0,
            &[
                "姓名",
                "村",
                "序号",
                "金额",
                "身份证号",
                "备注",
                "公民身份号码",
            ],
        );
    });
    let err = read_err(&path, &specs());
    assert_eq!(
        err,
        "第 E 列和第 G 列都对应「身份证号」，请删除或改名其中一列"
    );
}

#[test]
fn header_not_found() {
    let dir = tmp();
    let path = xlsx(dir.path(), "h.xlsx", |ws| {
        put(ws, 0, &["某某表"]);
        put(ws, 1, &["户名", "证件"]);
    });
    let err = read_err(&path, &specs());
    assert_eq!(
        err,
        "文件「h.xlsx」的工作表「花名册」找不到表头行：前 20 行中没有一列能对应到 「姓名」「身份证号」「村」「保障金额(元)」"
    );
}

#[test]
fn header_below_row_20_is_not_searched() {
    let dir = tmp();
    let path = xlsx(dir.path(), "late.xlsx", |ws| {
        put(ws, 20, &["姓名", "身份证号"]);
    });
    assert_eq!(
        read_err(&path, &specs()),
        "文件「late.xlsx」的工作表「花名册」找不到表头行：前 20 行是空的"
    );
}

#[test]
fn dates_come_back_as_serials_and_numbers_as_floats() {
    let dir = tmp();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let path = xlsx(dir.path(), "dates.xlsx", |ws| {
        put(ws, 0, &["姓名", "身份证号", "发放日期"]);
        put(ws, 1, &["甲"]);
        // An ID typed as a number: the caller must notice the lost digits.
        ws.write_number(1, 1, 431224198001010011.0).expect("n");
        let d = ExcelDateTime::from_ymd(2023, 1, 5).expect("d");
        ws.write_datetime_with_format(1, 2, &d, &date).expect("d");
        ws.write_boolean(2, 0, true).expect("b");
        ws.write_formula(2, 1, "=1/0").expect("f");
    });
    let mut specs = specs();
    specs.push(ColumnSpec::new("paid_on", &["发放日期"]));
    let (_, rows) = read_all(&path, &specs);
    assert_eq!(rows[0].cells[1], Cell::Float(431224198001010011.0));
    assert_eq!(rows[0].cells[4], Cell::DateTime(44931.0));
    assert_eq!(rows[1].cells[0], Cell::Bool(true));
    // rust_xlsxwriter stores no cached result for formulas: 0 is what a
    // reader that does not recalculate sees.
    assert!(matches!(
        rows[1].cells[1],
        Cell::Float(_) | Cell::Int(_) | Cell::Empty | Cell::Error(_)
    ));
}

#[test]
fn notes_row_under_header_is_skipped() {
    let dir = tmp();
    let path = xlsx(dir.path(), "notes.xlsx", |ws| {
        put(ws, 0, &["姓名", "身份证号"]);
        put(ws, 1, &["必填", "必填；18 位，末位可为 X"]);
        put(ws, 2, &["甲", "11010519491231002X"]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(layout.notes_row, Some(2));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].excel_row, 3);
}

#[test]
fn callback_error_stops_reading() {
    let dir = tmp();
    let path = xlsx(dir.path(), "cb.xlsx", |ws| {
        put(ws, 0, &["姓名"]);
        for r in 1..50 {
            put(ws, r, &["某"]);
        }
    });
    let mut src = open(&path).expect("open");
    let mut seen = 0;
    let res = src.read_sheet("花名册", &specs(), &mut |r: RawRow| {
        seen += 1;
        if r.excel_row == 30 {
            Err(format!("第 {} 行有误", r.excel_row))
        } else {
            Ok(())
        }
    });
    match res {
        Err(ReadError::Callback(msg)) => assert_eq!(msg, "第 30 行有误"),
        other => panic!("{other:?}"),
    }
    assert_eq!(seen, 29);
}

#[test]
fn sheets_by_name_and_format_by_content() {
    let dir = tmp();
    let path = xlsx(dir.path(), "named.csv", |ws| {
        put(ws, 0, &["姓名"]);
        put(ws, 1, &["甲"]);
    });
    let mut src = open(&path).expect("open");
    assert_eq!(src.format(), FileFormat::Xlsx);
    assert_eq!(src.sheet_names(), vec!["花名册".to_string()]);
    let err = src
        .read_sheet(
            "Sheet9",
            &specs(),
            &mut |_r: RawRow| -> Result<(), String> { Ok(()) },
        )
        .expect_err("no such sheet");
    assert_eq!(err.to_string(), "文件中没有名为「Sheet9」的工作表");
}

#[test]
fn missing_file_message() {
    let dir = tmp();
    let err = open(&dir.path().join("无此文件.xlsx"))
        .err()
        .expect("error");
    assert_eq!(err.to_string(), "无法打开文件 无此文件.xlsx：文件不存在");
}

#[test]
fn sub_labels_under_unused_group_are_header_not_data() {
    let dir = tmp();
    let f = Format::new();
    let path = xlsx(dir.path(), "family.xlsx", |ws| {
        ws.merge_range(0, 0, 1, 0, "序号", &f).expect("m");
        ws.merge_range(0, 1, 1, 1, "姓名", &f).expect("m");
        ws.merge_range(0, 2, 1, 2, "身份证号", &f).expect("m");
        ws.merge_range(0, 3, 0, 4, "家庭成员", &f).expect("m");
        put(ws, 1, &["", "", "", "人数", "其中残疾人数"]);
        put(ws, 2, &["1", "周九", "11010519491231002X", "3", "1"]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(layout.header_row, 2);
    assert_eq!(
        layout.unknown_columns,
        vec![
            ("D".to_string(), "人数".to_string()),
            ("E".to_string(), "其中残疾人数".to_string())
        ]
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].excel_row, 3);
    assert_eq!(layout.empty_rows_skipped, 0);
}

#[test]
fn a_data_row_is_not_mistaken_for_a_second_header_row() {
    let dir = tmp();
    let path = xlsx(dir.path(), "plain.xlsx", |ws| {
        put(ws, 0, &["姓名", "身份证号", "村", "备注"]);
        put(ws, 1, &["", "", "", "户主外出务工"]);
        put(ws, 2, &["吴十", "11010519491231002X", "新屋村", ""]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(layout.header_row, 1);
    assert_eq!(
        layout.unknown_columns,
        vec![("D".to_string(), "备注".to_string())]
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(layout.empty_rows_skipped, 1);
}
