//! The floor of the import benchmark: the xlsx reader alone streaming every row of the
//! payment sheet (header found, columns bound, cells decoded), with no validation or writes.
//!
//!     cargo run --release -p taizhang-exchange --example bench_read -- FILE.xlsx

use std::convert::Infallible;
use std::time::Instant;

use taizhang_tabular::{open, ColumnSpec, RawRow};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: bench_read FILE [calamine]")?;
    if std::env::args().nth(2).as_deref() == Some("calamine") {
        return calamine_only(&path);
    }
    let headers = ["序号", "村", "组", "户主姓名", "户主身份证号", "保障人数", "发放月份", "发放类别", "发放金额（元）", "发放日期", "银行账号", "备注"];
    let specs: Vec<ColumnSpec> = headers.iter().enumerate().map(|(i, h)| ColumnSpec::new(&format!("c{i}"), &[h])).collect();
    let start = Instant::now();
    let mut source = open(std::path::Path::new(&path))?;
    let sheet = source.sheet_names().first().cloned().ok_or("no sheet")?;
    let mut rows = 0u64;
    let mut cells = 0u64;
    let mut on_row = |r: RawRow| -> Result<(), Infallible> {
        rows += 1;
        cells += r.cells.iter().filter(|c| !c.is_blank()).count() as u64;
        Ok(())
    };
    source.read_sheet(&sheet, &specs, &mut on_row)?;
    let secs = start.elapsed().as_secs_f64();
    println!("{rows} rows, {cells} cells in {secs:.2} s: {:.0} rows/s", rows as f64 / secs);
    Ok(())
}

/// calamine's own streaming cell reader over the whole sheet, nothing else: what any reader
/// built on it cannot beat.
fn calamine_only(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    use calamine::Reader;
    let start = Instant::now();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(path)?;
    let sheet = book.sheet_names().first().cloned().ok_or("no sheet")?;
    let mut cells = book.worksheet_cells_reader(&sheet)?;
    let (mut n, mut last_row) = (0u64, 0u32);
    while let Some(c) = cells.next_cell()? {
        n += 1;
        last_row = c.get_position().0;
    }
    let secs = start.elapsed().as_secs_f64();
    println!("calamine alone: {} rows, {n} cells in {secs:.2} s: {:.0} rows/s", last_row, f64::from(last_row) / secs);
    Ok(())
}
