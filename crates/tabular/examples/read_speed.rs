//! Raw read speed of `Source::read_sheet` on a 低保 payment sheet.
//!
//!     cargo run --release -p taizhang-tabular --example read_speed -- /tmp/bench1m.xlsx [rows] [sst]
//!
//! Generates the file when it does not exist yet, then reads it and prints
//! rows/s. By default the file is written with `XlsxOut` (constant-memory
//! mode, strings inline in the cells); with `sst` it is written the way
//! Excel saves, with a shared-string table, which the reader must hold in
//! memory. Run it twice under `/usr/bin/time -v` to see the reader's peak
//! memory without the writer's.

use std::convert::Infallible;
use std::path::Path;
use std::time::Instant;

use chrono::{Days, NaiveDate};
use taizhang_tabular::{open, Cell, ColumnSpec, OutCell, OutColumn, OutKind, RawRow, XlsxOut};

const SURNAMES: [&str; 12] = [
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "舒", "向",
];
const GIVEN: [&str; 10] = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军"];
const VILLAGES: [&str; 8] = [
    "北斗溪村",
    "龙潭村",
    "新屋村",
    "大溪村",
    "坪溪村",
    "桐木村",
    "茅坪村",
    "竹园村",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "/tmp/bench1m.xlsx".to_string());
    let rows: u32 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let shared_strings = args.next().as_deref() == Some("sst");
    let path = Path::new(&path);
    if !path.exists() {
        let start = Instant::now();
        if shared_strings {
            generate_sst(path, rows)?;
        } else {
            generate(path, rows)?;
        }
        let secs = start.elapsed().as_secs_f64();
        let size = std::fs::metadata(path)?.len();
        println!(
            "generated {rows} rows in {secs:.1} s ({:.0} rows/s), {:.1} MB",
            f64::from(rows) / secs,
            size as f64 / 1e6
        );
    }
    read(path)
}

fn row(i: u32) -> Result<Vec<OutCell>, Box<dyn std::error::Error>> {
    let n = u64::from(i);
    let base = NaiveDate::from_ymd_opt(2023, 7, 1).ok_or("date")?;
    let name = format!(
        "{}{}",
        SURNAMES[(n % 12) as usize],
        GIVEN[(n / 12 % 10) as usize]
    );
    let id = format!(
        "433024{:08}{:04}",
        19500101 + (n % 50) * 10000 + n % 28,
        n % 10000
    );
    let paid = base.checked_add_days(Days::new(n % 28)).ok_or("date")?;
    Ok(vec![
        OutCell::Int(i64::from(i) + 1),
        OutCell::Text(name),
        OutCell::Text(id),
        OutCell::Text(VILLAGES[(n % 8) as usize].to_string()),
        OutCell::Text(format!("{}组", n % 12 + 1)),
        OutCell::Text(format!("H{:07}", n / 3)),
        OutCell::Int((n % 5 + 1) as i64),
        OutCell::Text("2023-07".to_string()),
        OutCell::Money(30000 + (n % 400) as i64 * 50),
        OutCell::Date(paid),
        OutCell::Text(format!("6217{:015}", n * 7919)),
        if n % 10 == 0 {
            OutCell::Text("户主外出务工".to_string())
        } else {
            OutCell::Empty
        },
    ])
}

/// Shared strings, as Excel writes them; rust_xlsxwriter's low-memory mode
/// streams rows but keeps the string table.
fn generate_sst(path: &Path, rows: u32) -> Result<(), Box<dyn std::error::Error>> {
    use chrono::Datelike;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let money = Format::new().set_num_format("#,##0.00");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet_with_low_memory();
    ws.write_string(0, 0, "北斗溪镇2023年低保金发放花名册")?;
    for (col, c) in (0u16..).zip(columns()) {
        ws.write_string(1, col, c.header)?;
    }
    for i in 0..rows {
        let r = i + 2;
        for (col, cell) in (0u16..).zip(row(i)?) {
            match cell {
                OutCell::Text(s) => {
                    ws.write_string(r, col, s)?;
                }
                OutCell::Int(v) => {
                    ws.write_number(r, col, v as f64)?;
                }
                OutCell::Money(fen) => {
                    ws.write_number_with_format(r, col, fen as f64 / 100.0, &money)?;
                }
                OutCell::Date(d) => {
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    ws.write_datetime_with_format(r, col, &dt, &date)?;
                }
                _ => {}
            }
        }
    }
    wb.save(path)?;
    Ok(())
}

fn columns() -> Vec<OutColumn> {
    vec![
        OutColumn::new("序号", OutKind::Int),
        OutColumn::new("姓名", OutKind::Text),
        OutColumn::new("身份证号", OutKind::IdText),
        OutColumn::new("村", OutKind::Text),
        OutColumn::new("组", OutKind::Text),
        OutColumn::new("户号", OutKind::IdText),
        OutColumn::new("人数", OutKind::Int),
        OutColumn::new("月份", OutKind::Text),
        OutColumn::new("保障金额", OutKind::Money),
        OutColumn::new("发放日期", OutKind::Date),
        OutColumn::new("银行账号", OutKind::IdText),
        OutColumn::new("备注", OutKind::Text),
    ]
}

fn generate(path: &Path, rows: u32) -> Result<(), Box<dyn std::error::Error>> {
    let mut out = XlsxOut::create(
        path,
        "低保",
        columns(),
        Some("北斗溪镇2023年低保金发放花名册"),
    )?;
    for i in 0..rows {
        out.write_row(&row(i)?)?;
    }
    out.finish()?;
    Ok(())
}

fn read(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let specs: Vec<ColumnSpec> = columns()
        .iter()
        .filter(|c| c.header != "序号")
        .map(|c| ColumnSpec::new(&c.header, &[&c.header]))
        .collect();
    let start = Instant::now();
    let mut src = open(path)?;
    let opened = start.elapsed().as_secs_f64();
    let sheet = src.sheet_names().into_iter().next().ok_or("no sheet")?;
    let (mut rows, mut texts, mut amount_fen) = (0u64, 0u64, 0i64);
    let layout = src
        .read_sheet(&sheet, &specs, &mut |r: RawRow| -> Result<(), Infallible> {
            rows += 1;
            texts += r
                .cells
                .iter()
                .filter(|c| matches!(c, Cell::Text(_)))
                .count() as u64;
            if let Some(Cell::Float(f)) = r.cells.get(7) {
                amount_fen += (f * 100.0).round() as i64;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "read {rows} rows ({texts} text cells, total {:.2} 元, header on row {}) in {secs:.2} s (open {opened:.2} s): {:.0} rows/s",
        amount_fen as f64 / 100.0,
        layout.header_row,
        rows as f64 / secs
    );
    Ok(())
}
