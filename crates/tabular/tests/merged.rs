//! Values merged down a column below the header (a month or a village written once for a
//! block of rows) reach every row of the block, and the layout says where.

mod common;

use common::{put, read_all, specs, text, tmp, xlsx};
use rust_xlsxwriter::Format;
use taizhang_tabular::{Cell, FilledDown};

#[test]
fn a_village_merged_down_is_given_to_each_row() {
    let dir = tmp();
    let path = xlsx(dir.path(), "合并.xlsx", |ws| {
        put(ws, 0, &["2024年2月低保金发放表"]);
        put(ws, 1, &["村", "姓名", "身份证号", "金额"]);
        for (r, name) in (2u32..).zip(["张三", "李四", "王五", "赵六", "钱七"]) {
            put(ws, r, &["", name, "431224198001010011"]);
            ws.write_number(r, 3, 100.0).expect("w");
        }
        let f = Format::new();
        ws.merge_range(2, 0, 4, 0, "龙潭村", &f).expect("merge");
        ws.merge_range(5, 0, 6, 0, "石门村", &f).expect("merge");
        // A merge across columns of one row is not a fill.
        ws.merge_range(8, 0, 8, 3, "制表人：王五", &f).expect("merge");
    });
    let (layout, rows) = read_all(&path, &specs());
    let villages: Vec<Cell> = rows.iter().map(|r| r.cells[2].clone()).collect();
    // The signature line is a row like any other here: telling it from data is the importer's job.
    assert_eq!(villages, vec![text("龙潭村"), text("龙潭村"), text("龙潭村"), text("石门村"), text("石门村"), text("制表人：王五")]);
    assert_eq!(
        layout.filled_down,
        vec![
            FilledDown { letter: "A".into(), header: "村".into(), first_row: 3, last_row: 5 },
            FilledDown { letter: "A".into(), header: "村".into(), first_row: 6, last_row: 7 },
        ]
    );
    assert_eq!(layout.title, vec!["2024年2月低保金发放表".to_string()]);
}

#[test]
fn a_cell_with_its_own_value_and_an_empty_row_are_left_alone() {
    let dir = tmp();
    let path = xlsx(dir.path(), "合并2.xlsx", |ws| {
        put(ws, 0, &["村", "姓名", "身份证号", "金额"]);
        put(ws, 1, &["", "张三", "431224198001010011"]);
        // Row 3 is inside the merged block but holds nothing else: still an empty row.
        put(ws, 3, &["", "王五", "431224198001010011"]);
        ws.merge_range(1, 0, 3, 0, "龙潭村", &Format::new()).expect("merge");
    });
    let (layout, rows) = read_all(&path, &specs());
    assert_eq!(rows.iter().map(|r| r.excel_row).collect::<Vec<_>>(), vec![2, 4]);
    assert!(rows.iter().all(|r| r.cells[2] == text("龙潭村")));
    assert_eq!(layout.filled_down.len(), 1);
    assert_eq!(layout.empty_rows_skipped, 1);
}

#[test]
fn no_merges_no_fills() {
    let dir = tmp();
    let path = xlsx(dir.path(), "平.xlsx", |ws| {
        put(ws, 0, &["村", "姓名", "身份证号", "金额"]);
        put(ws, 1, &["龙潭村", "张三", "431224198001010011"]);
        put(ws, 2, &["", "李四", "431224198001010011"]);
    });
    let (layout, rows) = read_all(&path, &specs());
    assert!(layout.filled_down.is_empty());
    assert_eq!(rows[1].cells[2], Cell::Empty, "a blank that no merge covers stays blank");
}
