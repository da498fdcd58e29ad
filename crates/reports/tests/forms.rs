//! The county's Excel forms: the built-in 社会救助月报 filled from a small town on both engines
//! (figures per village and 合计, layout kept, the same bytes), a clerk's own template with
//! formulas and a print area, and errors naming the sheet and cell.

mod common;

#[allow(dead_code)]
#[path = "../examples/make_forms.rs"]
mod make_forms;

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use common::{id_number, person, town};
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::period::parse_period;
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_reports::eval::{Figure, VillageFigure};
use taizhang_reports::form::{self, FormOptions};
use taizhang_reports::render::{self, ReportData};
use taizhang_reports::{indicator, Context};
use taizhang_storage::{households, ledgers, records, Db, Scope};

const SHEET: &str = "社会救助月报";

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn options() -> FormOptions {
    FormOptions { filled_on: d("2023-12-05") }
}

async fn add(db: &Db, defs: &[LedgerDef], ledger: &str, subject: i64, values: &[(&str, Value)]) {
    let def = defs.iter().find(|l| l.key == ledger).expect("ledger");
    let vals: Values = values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut tx = db.begin().await.expect("begin");
    let input = RecordInput { place_id: None, subject_id: Some(subject), concerns_year: None, values: vals };
    records::create(&mut tx, def, &Actor::System, &Scope::all(), input, d("2023-12-31")).await.expect(ledger);
    tx.commit().await.expect("commit");
}

/// 坪溪村: H1 (低保 2 人, 特困 A), H2 (低保 ended in August; 临时救助).
/// 茅坡村: H3 (低保 3 人 from October; 临时救助), D (特困 only from December).
async fn seed(db: &Db) -> (Vec<LedgerDef>, String) {
    let town = town(db).await;
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("ledgers");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
    let (px, mp) = (town.pingxi.id, town.maopo.id);
    let a = person(db, "张一", &id_number("433024", "19500101", 11), px).await;
    let c = person(db, "陈三", &id_number("433024", "19600303", 31), px).await;
    let dd = person(db, "刘四", &id_number("433024", "19400404", 41), mp).await;
    let mut tx = db.begin().await.expect("begin");
    let (ac, s) = (Actor::System, Scope::all());
    let h1 = households::create(&mut tx, &ac, &s, "H1", px).await.expect("h1");
    let h2 = households::create(&mut tx, &ac, &s, "H2", px).await.expect("h2");
    let h3 = households::create(&mut tx, &ac, &s, "H3", mp).await.expect("h3");
    households::add_member(&mut tx, &ac, &s, h1.id, a.id, "户主").await.expect("m");
    households::add_member(&mut tx, &ac, &s, h2.id, c.id, "户主").await.expect("m");
    households::add_member(&mut tx, &ac, &s, h3.id, dd.id, "户主").await.expect("m");
    tx.commit().await.expect("commit");

    let dibao = |size: i64, from: &str| vec![("area_type", t("农村")), ("household_size", Value::Int(size)), ("approved_on", Value::Date(d(from)))];
    add(db, &defs, "dibao", h1.id, &dibao(2, "2022-05-01")).await;
    let mut ended = dibao(1, "2023-03-01");
    ended.push(("exited_on", Value::Date(d("2023-08-31"))));
    add(db, &defs, "dibao", h2.id, &ended).await;
    add(db, &defs, "dibao", h3.id, &dibao(3, "2023-10-01")).await;
    for (h, month, amount) in [(h1.id, "2023-11", 30_000), (h3.id, "2023-11", 45_050), (h1.id, "2023-10", 30_000)] {
        add(db, &defs, "dibao_payments", h, &[("pay_month", t(month)), ("amount", Value::Int(amount))]).await;
    }
    for (p, from) in [(a.id, "2022-01-01"), (dd.id, "2023-12-05")] {
        add(db, &defs, "destitute", p, &[("support_mode", t("分散供养")), ("approved_on", Value::Date(d(from)))]).await;
    }
    add(db, &defs, "destitute_payments", a.id, &[("pay_month", t("2023-11")), ("kind", t("基本生活费")), ("support_mode", t("分散供养")), ("amount", Value::Int(50_000))]).await;
    for (h, day, amount) in [(h2.id, "2023-11-10", 100_000), (h3.id, "2023-11-20", 20_000), (h3.id, "2023-12-01", 70_000)] {
        add(db, &defs, "temporary_relief", h, &[("paid_on", Value::Date(d(day))), ("amount", Value::Int(amount))]).await;
    }
    (defs, town.pingxi.path.clone())
}

async fn filled(db: &Db) -> Vec<u8> {
    fill_for(db, false).await
}

/// The form filled for the town, or for 坪溪村 alone.
async fn fill_for(db: &Db, village: bool) -> Vec<u8> {
    let (defs, pingxi) = seed(db).await;
    let period = parse_period("2023-11").expect("period");
    let scope = if village { Scope { path: pingxi } } else { Scope::all() };
    let ctx = Context { as_of: period.end, period, scope };
    let inds = indicator::builtin().expect("indicators");
    let mut tx = db.read().await.expect("read");
    let data = render::gather(&mut tx, &inds, &defs, &ctx).await.expect("gather");
    let template = form::builtin_form("social_assistance_monthly").expect("built-in form");
    let filled = form::fill(template, &data, &options()).expect("fill");
    let lazy = render::gather_for(&mut tx, &inds, &defs, &ctx, |d| form::fill(template, d, &options())).await.expect("fill on demand");
    assert!(lazy == filled, "the form filled on demand differs from the form filled with every figure");
    filled
}

fn entries(xlsx: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).expect("zip");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let mut b = Vec::new();
        f.read_to_end(&mut b).expect("read");
        out.insert(f.name().to_string(), b);
    }
    out
}

fn part(xlsx: &[u8], name: &str) -> String {
    String::from_utf8(entries(xlsx).remove(name).expect(name)).expect("utf-8")
}

/// Every non-empty cell of a sheet as `A1 = value` (strings quoted), row by row.
fn grid(xlsx: &[u8], sheet: &str) -> String {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx.to_vec())).expect("open");
    let range = wb.worksheet_range(sheet).expect("sheet");
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut out = String::new();
    for (r, row) in range.rows().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .filter(|(_, v)| !matches!(v, Data::Empty))
            .map(|(c, v)| {
                let col = u8::try_from(c0 as usize + c).map(|c| char::from(b'A' + c)).unwrap_or('?');
                let text = match v {
                    Data::String(s) => format!("{s:?}"),
                    other => other.to_string(),
                };
                format!("{col}{} = {text}", r0 as usize + r + 1)
            })
            .collect();
        if !cells.is_empty() {
            out.push_str(&cells.join(" | "));
            out.push('\n');
        }
    }
    out
}

/// Values of one row of the sheet, as text (numbers as calamine prints them).
fn row(xlsx: &[u8], sheet: &str, r: u32) -> Vec<String> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx.to_vec())).expect("open");
    let range = wb.worksheet_range(sheet).expect("sheet");
    (0..10).map(|c| range.get_value((r - 1, c)).map(|v| v.to_string()).unwrap_or_default()).collect()
}

/// The `ref`s of a sheet's merged cells, in order.
fn merges(sheet_xml: &str) -> Vec<String> {
    sheet_xml.split("<mergeCell ref=\"").skip(1).filter_map(|s| s.split('"').next().map(String::from)).collect()
}

/// The style index of every cell of a row (`s="…"`).
fn styles_of_row(sheet_xml: &str, r: u32) -> Vec<String> {
    let start = format!("<row r=\"{r}\"");
    let Some(i) = sheet_xml.find(&start) else { return Vec::new() };
    let row = &sheet_xml[i..i + sheet_xml[i..].find("</row>").unwrap_or(0)];
    row.split("<c ").skip(1).map(|c| c.split(" s=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or("").to_string()).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

mod monthly_form {
    use super::*;
    use taizhang_storage::testkit::TestDb;
    use taizhang_storage::Engine;

    async fn figures_per_village_and_total(db: &Db) {
        let out = filled(db).await;
        assert_eq!(row(&out, SHEET, 1)[0], "北斗溪镇2023年11月社会救助统计表");
        assert_eq!(row(&out, SHEET, 2)[0], "填报单位（盖章）：北斗溪镇人民政府");
        assert_eq!(row(&out, SHEET, 5), strings(&["1", "坪溪村", "1", "2", "300", "1", "500", "1", "1000", ""]));
        assert_eq!(row(&out, SHEET, 6), strings(&["2", "茅坡村", "1", "3", "450.5", "0", "0", "1", "200", ""]));
        assert_eq!(row(&out, SHEET, 7), strings(&["合计", "", "2", "5", "750.5", "1", "500", "2", "1200", ""]));
        assert_eq!(row(&out, SHEET, 8)[6], "填报日期：2023年12月5日");
        insta::assert_snapshot!("social_assistance_monthly", grid(&out, SHEET));
    }

    #[tokio::test]
    async fn figures_per_village_and_total_sqlite() {
        let t = TestDb::new(Engine::Sqlite).await.expect("sqlite").expect("sqlite always runs");
        figures_per_village_and_total(&t.db).await;
    }

    #[tokio::test]
    async fn figures_per_village_and_total_postgres() {
        let Some(t) = TestDb::new(Engine::Postgres).await.expect("postgres") else { return };
        figures_per_village_and_total(&t.db).await;
    }

    /// The layout survives: every other part byte for byte, merges shifted, styles per row.
    #[tokio::test]
    async fn layout_survives() {
        let lite = TestDb::new(Engine::Sqlite).await.expect("sqlite").expect("sqlite");
        let out = filled(&lite.db).await;
        let template = form::builtin_form("social_assistance_monthly").expect("form");
        let (before, after) = (entries(template), entries(&out));
        assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "same entries, same order of names");
        for (name, bytes) in &before {
            if name != "xl/worksheets/sheet1.xml" && name != "xl/workbook.xml" {
                assert!(after[name] == *bytes, "{name} changed");
            }
        }
        // The notes sheet is hidden; the print area grows by the one added village row.
        let wb = part(&out, "xl/workbook.xml");
        assert!(wb.contains(r#"<sheet name="填写说明" sheetId="2" r:id="rId2" state="hidden"/>"#), "{wb}");
        assert!(wb.contains(">社会救助月报!$A$1:$J$9<"), "{wb}");
        assert!(wb.contains(">社会救助月报!$3:$4<"), "print titles stay: {wb}");

        let (tpl, sheet) = (part(template, "xl/worksheets/sheet1.xml"), part(&out, "xl/worksheets/sheet1.xml"));
        assert_eq!(
            merges(&tpl),
            strings(&["A1:J1", "A2:F2", "G2:J2", "A3:A4", "B3:B4", "C3:E3", "F3:G3", "H3:I3", "J3:J4", "A6:B6", "A7:C7", "D7:F7", "G7:J7", "A8:J8"])
        );
        assert_eq!(
            merges(&sheet),
            strings(&["A1:J1", "A2:F2", "G2:J2", "A3:A4", "B3:B4", "C3:E3", "F3:G3", "H3:I3", "J3:J4", "A7:B7", "A8:C8", "D8:F8", "G8:J8", "A9:J9"])
        );
        assert!(sheet.contains(r#"<dimension ref="A1:J9"/>"#));
        // Column widths, page set-up and print settings are the template's bytes.
        let outside = |x: &str| {
            let (head, rest) = x.split_once("<sheetData>").expect("sheetData");
            let tail = rest.split_once("</sheetData>").expect("end").1;
            let tail = tail.split_once("</mergeCells>").map_or(tail, |(_, t)| t);
            (head.split_once("<sheetViews>").map(|(_, h)| h.to_string()).unwrap_or_default(), tail.to_string())
        };
        assert_eq!(outside(&tpl), outside(&sheet));
        // Each village row has the template row's styles; rows below keep theirs.
        for (from, to) in [(1, 1), (3, 3), (4, 4), (5, 5), (5, 6), (6, 7), (7, 8), (8, 9)] {
            assert_eq!(styles_of_row(&tpl, from), styles_of_row(&sheet, to), "row {from} → {to}");
        }
        // Header rows untouched: their bytes are the template's.
        let row3 = |x: &str| x[x.find("<row r=\"3\"").expect("row 3")..x.find("<row r=\"5\"").expect("row 5")].to_string();
        assert_eq!(row3(&tpl), row3(&sheet));
        // Figures are numeric cells, text cells inline strings.
        assert!(sheet.contains(r#"<c r="E6" s="7"><v>450.50</v></c>"#), "{sheet}");
        assert!(sheet.contains(r#"<c r="B6" s="5" t="inlineStr"><is><t xml:space="preserve">茅坡村</t></is></c>"#), "{sheet}");
    }

    /// SQLite and PostgreSQL give the same workbook, byte for byte.
    #[tokio::test]
    async fn sqlite_and_postgres_same_bytes() {
        let Some(pg) = TestDb::new(Engine::Postgres).await.expect("pg") else { return };
        let lite = TestDb::new(Engine::Sqlite).await.expect("sqlite").expect("sqlite");
        let (a, b) = (filled(&lite.db).await, filled(&pg.db).await);
        assert!(a == b, "the filled workbooks differ");
        // And filling twice gives the same bytes (no clock in the output).
        assert!(filled(&TestDb::new(Engine::Sqlite).await.expect("sqlite").expect("sqlite").db).await == a);
    }

    /// For one village: one village row, its own figures in 合计, signed by the village committee.
    #[tokio::test]
    async fn one_village() {
        let lite = TestDb::new(Engine::Sqlite).await.expect("sqlite").expect("sqlite");
        let out = fill_for(&lite.db, true).await;
        assert_eq!(row(&out, SHEET, 1)[0], "坪溪村2023年11月社会救助统计表");
        assert_eq!(row(&out, SHEET, 2)[0], "填报单位（盖章）：坪溪村村民委员会");
        assert_eq!(row(&out, SHEET, 5), strings(&["1", "坪溪村", "1", "2", "300", "1", "500", "1", "1000", ""]));
        assert_eq!(row(&out, SHEET, 6), strings(&["合计", "", "1", "2", "300", "1", "500", "1", "1000", ""]));
    }

    /// The committed template is what `examples/make_forms.rs` writes.
    #[test]
    fn template_is_generated() {
        let made = make_forms::social_assistance_monthly().expect("generate");
        assert!(form::builtin_form("social_assistance_monthly.xlsx") == Some(made.as_slice()), "run: cargo run -p taizhang-reports --example make_forms");
        assert!(form::builtin_forms().contains(&"social_assistance_monthly".to_string()), "tests/county_forms.rs checks the whole list");
    }
}

/// Report data by hand: indicator `x` (count) and `m` (money) over three villages.
fn data() -> ReportData {
    let fig = |key: &str, unit: &str, value: i64| Figure {
        key: key.into(),
        name: key.into(),
        unit: unit.into(),
        ledger: "l".into(),
        ledger_name: "l".into(),
        measure: String::new(),
        scale: 0,
        value,
        target: None,
        filters: Vec::new(),
        sql: String::new(),
    };
    let villages = [("431224110201", "甲村"), ("431224110202", "乙村"), ("431224110203", "丙村")];
    let by_village = |vals: [i64; 3]| -> Vec<VillageFigure> {
        villages
            .iter()
            .zip(vals)
            .enumerate()
            .map(|(i, ((code, name), value))| VillageFigure { place_id: i64::try_from(i).unwrap_or(0), code: code.to_string(), name: name.to_string(), value })
            .collect()
    };
    ReportData {
        year: 2023,
        period: "2023年11月".into(),
        place: "北斗溪镇".into(),
        link_query: "year=2023".into(),
        figures: BTreeMap::from([("x".to_string(), fig("x", "户", 6)), ("m".to_string(), fig("m", "元", 1_234_567))]),
        villages: BTreeMap::from([("x".to_string(), by_village([1, 2, 3])), ("m".to_string(), by_village([5, 0, 1_234_562]))]),
        village_list: villages.iter().map(|(c, n)| (c.to_string(), n.to_string())).collect(),
        listings: BTreeMap::new(),
        words: Default::default(),
        demand: None,
        ..Default::default()
    }
}

/// A clerk's template: a village row with a formula, a 合计 row summing it, a merge below and
/// a print area.
fn clerk_template(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    use rust_xlsxwriter::{Formula, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("月报").expect("name");
    for &(r, c, text) in cells {
        match text.strip_prefix('=') {
            Some(f) => ws.write_formula(r, c, Formula::new(f)).map(|_| ()).expect("formula"),
            None => ws.write_string(r, c, text).map(|_| ()).expect("cell"),
        }
    }
    ws.merge_range(3, 0, 3, 2, "{{ place }} 填报", &rust_xlsxwriter::Format::new()).expect("merge");
    ws.set_print_area(0, 0, 3, 2).expect("print area");
    wb.save_to_buffer().expect("save")
}

#[test]
fn clerk_template_with_formulas() {
    let tpl = clerk_template(&[
        (0, 0, "村"),
        (0, 1, "{{ period }}户数"),
        (1, 0, "{# 每村 #}{{ v.name }}"),
        (1, 1, "{{ at(v, \"x\") }}"),
        (1, 2, "=B2*2"),
        (1, 3, "{{ at(v, \"m\") }}"),
        (2, 0, "合计"),
        (2, 1, "=SUM(B2:B2)"),
        (2, 2, "{{ fig(\"m\", \"wan:2\") }}万元"),
        (2, 3, "{{ num(\"m\") }}"),
    ]);
    let out = form::fill(&tpl, &data(), &options()).expect("fill");
    let sheet = part(&out, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<f>B2*2</f>") && sheet.contains("<f>B3*2</f>") && sheet.contains("<f>B4*2</f>"), "{sheet}");
    assert!(sheet.contains("<f>SUM(B2:B4)</f>"), "{sheet}");
    assert_eq!(merges(&sheet), strings(&["A6:C6"]));
    let wb = part(&out, "xl/workbook.xml");
    assert!(wb.contains("月报!$A$1:$C$6"), "{wb}");
    assert!(wb.contains("fullCalcOnLoad=\"1\""), "formulas are recomputed on opening: {wb}");
    insta::assert_snapshot!(grid(&out, "月报"), @r#"
    A1 = "村" | B1 = "2023年11月户数"
    A2 = "甲村" | B2 = 1 | D2 = 0.05
    A3 = "乙村" | B3 = 2 | D3 = 0
    A4 = "丙村" | B4 = 3 | D4 = 12345.62
    A5 = "合计" | C5 = "1.23万元" | D5 = 12345.67
    A6 = "北斗溪镇 填报"
    "#);
}

/// With one village nothing moves, but formulas still lose their stale cached values.
#[test]
fn formulas_recomputed_with_one_village() {
    let tpl = clerk_template(&[(1, 0, "{#每村#}{{ v.name }}"), (1, 1, "{{ at(v, \"x\") }}"), (2, 1, "=SUM(B2:B2)"), (2, 2, "=1+1")]);
    let mut d = data();
    d.village_list.truncate(1);
    let out = form::fill(&tpl, &d, &options()).expect("fill");
    let sheet = part(&out, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<c r="B3"><f>SUM(B2:B2)</f></c><c r="C3"><f>1+1</f></c>"#), "{sheet}");
}

#[test]
fn no_villages_removes_the_row() {
    let tpl = clerk_template(&[(0, 0, "村"), (1, 0, "{#每村#}{{ v.name }}"), (2, 0, "合计"), (2, 1, "{{ num(\"x\") }}")]);
    let mut d = data();
    d.village_list.clear();
    let out = form::fill(&tpl, &d, &options()).expect("fill");
    assert_eq!(grid(&out, "月报"), "A1 = \"村\"\nA2 = \"合计\" | B2 = 6\nA3 = \"北斗溪镇 填报\"\n");
    assert_eq!(merges(&part(&out, "xl/worksheets/sheet1.xml")), strings(&["A3:C3"]));
}

/// A template saved while its 填写说明 sheet was open: the filled workbook opens on the form.
#[test]
fn notes_sheet_hidden_even_when_open() {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("月报").expect("name").write_string(0, 0, "{{ place }}").expect("cell");
    let notes = wb.add_worksheet().set_name("填写说明").expect("name");
    notes.write_string(0, 0, "写 {{ place }} 得镇名").expect("cell");
    notes.set_active(true);
    let tpl = wb.save_to_buffer().expect("save");
    assert!(part(&tpl, "xl/workbook.xml").contains("activeTab=\"1\""));
    let out = form::fill(&tpl, &data(), &options()).expect("fill");
    let book = part(&out, "xl/workbook.xml");
    assert!(book.contains("activeTab=\"0\"") && book.contains("state=\"hidden\""), "{book}");
    assert!(!part(&out, "xl/worksheets/sheet2.xml").contains("tabSelected=\"1\""));
    assert_eq!(grid(&out, "月报"), "A1 = \"北斗溪镇\"\n");
    assert_eq!(grid(&out, "填写说明"), "A1 = \"写 {{ place }} 得镇名\"\n", "notes are not filled");
}

/// Placeholders typed with a Chinese input method still work.
#[test]
fn chinese_punctuation_in_placeholders() {
    let tpl = clerk_template(&[(0, 0, "{{ num（“x”） }}"), (0, 1, "共{{ fig（“m”，“wan:2”） }}万元，")]);
    let out = form::fill(&tpl, &data(), &options()).expect("fill");
    assert!(grid(&out, "月报").starts_with("A1 = 6 | B1 = \"共1.23万元，\"\n"), "{}", grid(&out, "月报"));
}

#[test]
fn bad_placeholders_name_sheet_and_cell() {
    for (text, cell, reason) in [
        ("{{ fig(\"no_such\") }}", "B2", "没有指标「no_such」"),
        ("{{ num( }}", "B2", "占位符写法有误"),
        ("共{{ nope }}户", "B2", "没有的变量"),
        ("{{ at(v, \"x\") }}", "B2", "每村行的 v"),
    ] {
        let tpl = clerk_template(&[(1, 1, text)]);
        let e = form::fill(&tpl, &data(), &options()).expect_err(text).to_string();
        assert!(e.contains(&format!("工作表「月报」单元格 {cell}")) && e.contains(reason), "{text}: {e}");
    }
    let e = form::fill(b"not a zip", &data(), &options()).expect_err("not xlsx").to_string();
    assert!(e.contains("不是有效的 xlsx 文件"), "{e}");
}
