//! Writes the files of the import benchmark (see BENCHMARKS.md and bench/import.sh):
//!
//!     cargo run --release -p taizhang-exchange --example bench_files -- DIR [ROWS] [HOUSEHOLDS]
//!
//! - `DIR/registry.xlsx`: one head of household per household (姓名, 公民身份号码, 所属村,
//!   户编号, 与户主关系), for the registry import that must come first;
//! - `DIR/dibao_payments.xlsx`: ROWS rows (default 1,000,000) of a 低保金发放花名册 in 12
//!   columns (beyond 1,000,000 rows, on further sheets of a million each), HOUSEHOLDS households (default 50,000) paid month after month, with a title row
//!   above the header and a shared-string table, as Excel and WPS save it.
//!
//! - `bench_files roster DIR [PERSONS]`: `DIR/roster.xlsx`, a 花名册 of PERSONS persons (default
//!   200,000) in households of four, for the registry benchmark (bench/registry.sh).
//!
//! Everything is derived from the row number, so two runs write the same files.

use std::path::Path;

use chrono::{Datelike, Months, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use taizhang_domain::idcard::check_character;

const SURNAMES: [&str; 12] = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "舒", "向"];
const GIVEN: [&str; 10] = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军"];
/// Villages the benchmark script creates first.
const VILLAGES: [&str; 8] = ["北斗溪村", "龙潭村", "新屋村", "大溪村", "坪溪村", "桐木村", "茅坪村", "竹园村"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("roster") {
        args.next();
        let dir = args.next().ok_or("usage: bench_files roster DIR [PERSONS]")?;
        let persons: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200_000);
        std::fs::create_dir_all(&dir)?;
        let path = Path::new(&dir).join("roster.xlsx");
        roster(&path, persons)?;
        println!("wrote {}", path.display());
        return Ok(());
    }
    let dir = args.next().ok_or("usage: bench_files DIR [ROWS] [HOUSEHOLDS]")?;
    let rows: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let households: u32 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(50_000);
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    registry(&dir.join("registry.xlsx"), households)?;
    payments(&dir.join("dibao_payments.xlsx"), rows, households)?;
    println!("wrote {} and {}", dir.join("registry.xlsx").display(), dir.join("dibao_payments.xlsx").display());
    Ok(())
}

fn name(h: u32) -> String {
    format!("{}{}", SURNAMES[(h % 12) as usize], GIVEN[(h / 12 % 10) as usize])
}

fn village(h: u32) -> &'static str {
    VILLAGES[(h % 8) as usize]
}

/// A valid, fictitious 18-digit number: 溆浦县 region code, a birth date, a sequence number.
fn id_number(h: u32) -> Result<String, Box<dyn std::error::Error>> {
    let birth = NaiveDate::from_ymd_opt(1940, 1, 1).ok_or("date")? + chrono::Days::new(u64::from(h % 20_000));
    let region = if birth.year() < 1997 { "433024" } else { "431224" };
    let first17 = format!("{region}{}{:03}", birth.format("%Y%m%d"), h / 20_000 % 1000);
    let check = check_character(&first17).ok_or("check character")?;
    Ok(format!("{first17}{check}"))
}

fn registry(path: &Path, households: u32) -> Result<(), Box<dyn std::error::Error>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_low_memory();
    ws.set_name("人员")?;
    for (c, h) in (0u16..).zip(["姓名", "公民身份号码", "所属村", "户编号", "与户主关系"]) {
        ws.write_string(0, c, h)?;
    }
    for h in 0..households {
        let r = h + 1;
        ws.write_string(r, 0, name(h))?;
        ws.write_string(r, 1, id_number(h)?)?;
        ws.write_string(r, 2, village(h))?;
        ws.write_string(r, 3, format!("H{h:06}"))?;
        ws.write_string(r, 4, "户主")?;
    }
    wb.save(path)?;
    Ok(())
}

/// A 花名册 of PERSONS persons in households of four (户主, 配偶, two 子女), as the provincial
/// systems export it: 10 columns, a title row, everyday relation words resolved by sex.
fn roster(path: &Path, persons: u32) -> Result<(), Box<dyn std::error::Error>> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet_with_low_memory();
    ws.set_name("花名册")?;
    ws.write_string(0, 0, "北斗溪镇人员花名册")?;
    let headers = ["序号", "户编号", "姓名", "性别", "公民身份号码", "与户主关系", "民族", "联系电话", "所属村", "人员状态"];
    for (c, h) in (0u16..).zip(headers) {
        ws.write_string(1, c, h)?;
    }
    for p in 0..persons {
        let h = p / 4;
        let id = id_number(p)?;
        // The 17th digit: odd for men.
        let male = id.as_bytes().get(16).is_some_and(|d| (d - b'0') % 2 == 1);
        let r = p + 2;
        ws.write_number(r, 0, f64::from(p + 1))?;
        ws.write_string(r, 1, format!("R{h:07}"))?;
        ws.write_string(r, 2, name(p))?;
        ws.write_string(r, 3, if male { "男" } else { "女" })?;
        ws.write_string(r, 4, id)?;
        ws.write_string(r, 5, ["户主", "配偶", "子女", "子女"][(p % 4) as usize])?;
        ws.write_string(r, 6, "汉族")?;
        if p % 4 == 0 {
            ws.write_string(r, 7, format!("138{:08}", p))?;
        }
        ws.write_string(r, 8, village(h))?;
        ws.write_string(r, 9, "正常")?;
    }
    wb.save(path)?;
    Ok(())
}

/// Rows per sheet: an .xlsx sheet holds at most 1,048,576 rows, so more rows than this go
/// on further sheets of the same layout (低保金发放台账2, 3 …), as a clerk would split them.
const SHEET_ROWS: u32 = 1_000_000;

fn payments(path: &Path, rows: u32, households: u32) -> Result<(), Box<dyn std::error::Error>> {
    let mut wb = Workbook::new();
    let money = Format::new().set_num_format("#,##0.00");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let headers = ["序号", "村", "组", "户主姓名", "户主身份证号", "保障人数", "发放月份", "发放类别", "发放金额（元）", "发放日期", "银行账号", "备注"];
    let first = NaiveDate::from_ymd_opt(2022, 1, 1).ok_or("date")?;
    for sheet in 0..rows.div_ceil(SHEET_ROWS).max(1) {
        // Low-memory mode streams rows to disk but keeps the shared-string table, as Excel does.
        let ws = wb.add_worksheet_with_low_memory();
        ws.set_name(if sheet == 0 { "低保金发放台账".to_string() } else { format!("低保金发放台账{}", sheet + 1) })?;
        ws.write_string(0, 0, "北斗溪镇低保金发放花名册")?;
        for (c, h) in (0u16..).zip(headers) {
            ws.write_string(1, c, h)?;
        }
        for i in sheet * SHEET_ROWS..rows.min((sheet + 1) * SHEET_ROWS) {
            let h = i % households;
            let month = first.checked_add_months(Months::new(i / households)).ok_or("month")?;
            let paid = month + chrono::Days::new(u64::from(h % 25));
            let r = i % SHEET_ROWS + 2;
            ws.write_number(r, 0, f64::from(i + 1))?;
            ws.write_string(r, 1, village(h))?;
            ws.write_string(r, 2, format!("{}组", h % 12 + 1))?;
            ws.write_string(r, 3, name(h))?;
            ws.write_string(r, 4, id_number(h)?)?;
            ws.write_number(r, 5, f64::from(h % 5 + 1))?;
            ws.write_string(r, 6, month.format("%Y-%m").to_string())?;
            ws.write_string(r, 7, "正常发放")?;
            ws.write_number_with_format(r, 8, f64::from(30_000 + (h % 400) * 50) / 100.0, &money)?;
            let dt = ExcelDateTime::from_ymd(paid.year() as u16, paid.month() as u8, paid.day() as u8)?;
            ws.write_datetime_with_format(r, 9, &dt, &date)?;
            ws.write_string(r, 10, format!("6217{:015}", u64::from(h) * 7919))?;
            if h.is_multiple_of(10) {
                ws.write_string(r, 11, "户主外出务工")?;
            }
        }
    }
    wb.save(path)?;
    Ok(())
}
