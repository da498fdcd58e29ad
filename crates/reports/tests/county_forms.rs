//! The county's monthly forms beside 社会救助月报 (防返贫监测, 安全隐患, 矛盾纠纷), filled for a
//! month of 2023 and one of 2022 on both engines: each village's cell against the figure the
//! roll-up computes (and, for the counts of records found in the month, against SQL counting
//! them), 合计 as sums of the village rows; and a form for a period whose ledger holds no record
//! says 未登记 where it used to print 0 or 0.00, while the warning stays.

mod common;

#[allow(dead_code)]
#[path = "../examples/make_forms.rs"]
mod make_forms;

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;
use common::{both, id_number, person, town, Town};
use make_forms::{CountyForm, Figure, COUNTY_FORMS};
use taizhang_domain::ledger::LedgerDef;
use taizhang_domain::period::parse_period;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_reports::form::{self, FormOptions, UNRECORDED};
use taizhang_reports::{eval, indicator, render, rollup, warnings, Context};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{households, ledgers, Arg, Db, Scope};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn options() -> FormOptions {
    FormOptions { filled_on: d("2023-12-05") }
}

/// The first village row and the number of villages of the seeded town.
const FIRST_ROW: u32 = 5;
const VILLAGES: u32 = 2;

/// Creates a record (in the ledger's initial state) and moves it to `state`, as the tests of
/// the indicators do: the workflow's guards are not what these forms are about.
async fn add(db: &Db, defs: &[LedgerDef], ledger: &str, subject: Option<i64>, place: Option<i64>, state: Option<&str>, values: &[(&str, Value)]) -> i64 {
    let def = defs.iter().find(|l| l.key == ledger).expect("ledger");
    let vals: Values = values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let mut tx = db.begin().await.expect("begin");
    let input = RecordInput { place_id: place, subject_id: subject, concerns_year: None, values: vals };
    let id = records::create(&mut tx, def, &Actor::System, &Scope::all(), input, d("2023-12-31")).await.expect(ledger).id;
    if let Some(s) = state {
        tx.exec(&format!("UPDATE ld_{ledger} SET state = $1 WHERE id = $2"), &[Arg::Text(s.into()), Arg::Int(id)]).await.expect("state");
    }
    tx.commit().await.expect("commit");
    id
}

/// 坪溪村 and 茅坡村 with records in May 2023 in both villages and in June 2022 in one of them
/// for each ledger (the other village's 0 is a true 0), and social assistance whose payments
/// stop after October 2022's standing records.
async fn seed(db: &Db) -> (Vec<LedgerDef>, Town) {
    let town = town(db).await;
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("ledgers");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
    let (px, mp) = (town.pingxi.id, town.maopo.id);

    // Households: three in 坪溪村, three in 茅坡村.
    let mut hh = Vec::new();
    for (i, place) in [px, px, px, mp, mp, mp].into_iter().enumerate() {
        let seq = u32::try_from(i).unwrap_or(0) + 1;
        let head = person(db, &format!("户主{seq}"), &id_number("431224", "19700101", seq), place).await;
        let mut tx = db.begin().await.expect("begin");
        let h = households::create(&mut tx, &Actor::System, &Scope::all(), &format!("H{seq}"), place).await.expect("household");
        households::add_member(&mut tx, &Actor::System, &Scope::all(), h.id, head.id, "户主").await.expect("head");
        tx.commit().await.expect("commit");
        hh.push(h.id);
    }

    // 防返贫监测: (household, size, identified, eliminated, state).
    let monitoring = [
        (hh[0], 3, "2022-03-10", None, "assisting"),
        (hh[1], 4, "2022-06-15", Some("2023-05-20"), "eliminated"),
        (hh[2], 2, "2023-05-08", None, "assisting"),
        (hh[3], 5, "2023-05-25", None, "identify_town"),
        (hh[4], 1, "2022-01-20", Some("2022-12-10"), "eliminated"),
        (hh[5], 6, "2023-05-02", None, "assisting"),
    ];
    for (h, size, from, eliminated, state) in monitoring {
        let mut v = vec![
            ("category", t("边缘易致贫户")),
            ("risk_types", Value::List(vec!["因病".into()])),
            ("household_size", Value::Int(size)),
            ("identified_on", Value::Date(d(from))),
        ];
        if let Some(e) = eliminated {
            v.push(("eliminated_on", Value::Date(d(e))));
        }
        add(db, &defs, "monitoring", Some(h), None, Some(state), &v).await;
    }

    // 安全隐患: (village, found, level, rectified, state).
    let hazards = [
        (px, "2023-05-03", "一般", Some("2023-05-10"), "closed"),
        (px, "2023-05-20", "重大", Some("2023-06-15"), "rectified"),
        (px, "2023-05-29", "一般", None, "found"),
        (mp, "2023-05-28", "一般", None, "found"),
        (px, "2022-06-02", "一般", Some("2022-06-05"), "rectified"),
        (px, "2022-06-18", "重大", None, "rectifying"),
    ];
    for (n, (place, found, level, rectified, state)) in hazards.into_iter().enumerate() {
        let mut v = vec![
            ("found_on", Value::Date(d(found))),
            ("industry", t("燃气")),
            ("level", t(level)),
            ("location", t("集镇")),
            ("description", t(&format!("燃气软管老化（{n}）"))),
            ("rectify_deadline", Value::Date(d("2023-12-31"))),
        ];
        if let Some(r) = rectified {
            v.push(("rectified_on", Value::Date(d(r))));
        }
        add(db, &defs, "hazards", None, Some(place), Some(state), &v).await;
    }

    // 矛盾纠纷: (village, accepted, people, resolved, transferred, state).
    let disputes = [
        (px, "2023-05-02", Some(3), Some("2023-05-20"), None, "resolved"),
        (px, "2023-05-10", Some(5), None, Some("2023-05-25"), "transferred"),
        (mp, "2023-05-15", None, None, None, "mediating"),
        (mp, "2023-05-18", Some(2), Some("2023-06-10"), None, "resolved"),
        (mp, "2022-06-06", Some(4), Some("2022-06-20"), None, "resolved"),
    ];
    for (n, (place, accepted, people, resolved, transferred, state)) in disputes.into_iter().enumerate() {
        let mut v = vec![
            ("accepted_on", Value::Date(d(accepted))),
            ("dispute_type", t("邻里纠纷")),
            ("parties", t(&format!("甲、乙（{n}）"))),
            ("summary", t("宅基地界址争议")),
            ("difficulty", t("简单")),
            ("risk_colour", t("蓝")),
        ];
        if let Some(p) = people {
            v.push(("people_involved", Value::Int(p)));
        }
        if let Some(r) = resolved {
            v.push(("resolved_on", Value::Date(d(r))));
        }
        if let Some(r) = transferred {
            v.push(("transferred_to", t("县矛调中心")));
            v.push(("transferred_on", Value::Date(d(r))));
        }
        add(db, &defs, "disputes", None, Some(place), Some(state), &v).await;
    }

    // 低保 in force from May 2022 in 坪溪村, paid for October 2022 only; no 特困, no 临时救助.
    let dibao = [("area_type", t("农村")), ("household_size", Value::Int(2)), ("approved_on", Value::Date(d("2022-05-01")))];
    add(db, &defs, "dibao", Some(hh[0]), None, None, &dibao).await;
    add(db, &defs, "dibao_payments", Some(hh[0]), None, None, &[("pay_month", t("2022-10")), ("amount", Value::Int(30_000))]).await;
    (defs, town)
}

fn month(m: &str) -> Context {
    let period = parse_period(m).expect("period");
    Context { as_of: period.end, period, scope: Scope::all() }
}

/// A form filled as the CLI fills it (on demand), checked against the form filled with every
/// figure computed first.
async fn fill(db: &Db, defs: &[LedgerDef], file: &str, ctx: &Context) -> Vec<u8> {
    let inds = indicator::builtin().expect("indicators");
    let template = form::builtin_form(file).expect("built-in form");
    let mut tx = db.read().await.expect("read");
    let lazy = render::gather_for(&mut tx, &inds, defs, ctx, |data| form::fill(template, data, &options())).await.expect("fill on demand");
    let data = render::gather(&mut tx, &inds, defs, ctx).await.expect("gather");
    let eager = form::fill(template, &data, &options()).expect("fill");
    assert!(lazy == eager, "{file}: the form filled on demand differs from the form filled with every figure");
    lazy
}

fn workbook(xlsx: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    calamine::open_workbook_from_rs(Cursor::new(xlsx.to_vec())).expect("open")
}

/// A cell's value (1-based row, 0-based column).
fn cell(xlsx: &[u8], sheet: &str, row: u32, col: u32) -> Data {
    let range = workbook(xlsx).worksheet_range(sheet).expect("sheet");
    range.get_value((row - 1, col)).cloned().unwrap_or(Data::Empty)
}

/// A cell's formula (1-based row, 0-based column), without the `=`.
fn formula(xlsx: &[u8], sheet: &str, row: u32, col: u32) -> String {
    let range = workbook(xlsx).worksheet_formula(sheet).expect("formulas");
    range.get_value((row - 1, col)).cloned().unwrap_or_default()
}

fn part(xlsx: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(xlsx)).expect("zip");
    let mut f = zip.by_name(name).expect(name);
    let mut s = String::new();
    f.read_to_string(&mut s).expect("utf-8");
    s
}

/// What a cell should hold for `value`: the number, or 未登记 when the ledger holds no record
/// for the period in the form's scope (records counted by storage, as the warnings count them).
fn expected(value: i64, recorded: bool) -> Data {
    if value == 0 && !recorded {
        Data::String(UNRECORDED.into())
    } else {
        Data::Float(value as f64)
    }
}

async fn has_records(db: &Db, defs: &[LedgerDef], ledger: &str, ctx: &Context) -> bool {
    let def = defs.iter().find(|l| l.key == ledger).expect("ledger");
    let mut tx = db.read().await.expect("read");
    let q = RecordQuery { period: Some(ctx.period.clone()), ..Default::default() };
    records::count(&mut tx, def, &ctx.scope, &q).await.expect("count") > 0
}

/// Records of a ledger whose `field` lies in the month, counted in SQL by village.
async fn counted(db: &Db, table: &str, field: &str, ctx: &Context) -> BTreeMap<String, i64> {
    let mut tx = db.read().await.expect("read");
    let sql = format!(
        "SELECT p.name, COUNT(*) FROM {table} t JOIN places p ON p.id = t.place_id WHERE t.{field} >= $1 AND t.{field} <= $2 AND t.voided_at IS NULL GROUP BY p.name"
    );
    let rows = tx.fetch(&sql, &[Arg::Date(ctx.period.start), Arg::Date(ctx.period.end)]).await.expect(&sql);
    rows.iter().map(|r| (r.text(0), r.int(1))).collect()
}

/// Every figure column of a form for every village against the roll-up, every 合计 a guarded
/// sum of the village rows whose sum is the town's figure; returns the non-zero cells seen.
async fn check_form(db: &Db, defs: &[LedgerDef], form: &CountyForm, ctx: &Context) -> usize {
    let out = fill(db, defs, form.file, ctx).await;
    let sheet = form.sheet;
    let inds = indicator::builtin().expect("indicators");
    let keys: Vec<&str> = form.columns.iter().filter_map(|c| if let Figure::Indicator(k) = c.2 { Some(k) } else { None }).collect();
    let used: Vec<_> = inds.iter().filter(|i| keys.contains(&i.key.as_str())).cloned().collect();
    assert_eq!(used.len(), keys.len(), "{}: every column's indicator exists", form.file);
    let by_village = rollup::rollup(db, &used, defs, ctx, PlaceLevel::Village).await.expect("roll-up");
    let total_row = FIRST_ROW + VILLAGES;
    let label = format!("{} {}", form.file, ctx.period.label);

    let Data::String(title) = cell(&out, sheet, 1, 0) else { panic!("{label}: no title") };
    assert_eq!(title, format!("北斗溪镇{}{}", ctx.period.label, form.title));
    assert_eq!(cell(&out, sheet, 2, 0), Data::String("填报单位（盖章）：北斗溪镇人民政府".into()));
    assert_eq!(cell(&out, sheet, total_row, 0), Data::String("合计".into()));
    assert_eq!(cell(&out, sheet, total_row + 1, 6), Data::String("填报日期：2023年12月5日".into()));
    let Data::String(note) = cell(&out, sheet, total_row + 2, 0) else { panic!("{label}: no note") };
    assert!(note.contains("「未登记」表示本期该台账在本地区没有任何记录"), "{note}");

    let mut nonzero = 0;
    let mut tx = db.read().await.expect("read");
    for (i, (_, _, figure, _)) in form.columns.iter().enumerate() {
        let col = 2 + u32::try_from(i).unwrap_or(0);
        let letter = char::from(b'A' + u8::try_from(col).unwrap_or(0));
        let (first, last) = (FIRST_ROW, FIRST_ROW + VILLAGES - 1);
        let Figure::Indicator(key) = *figure else {
            // A rate: a formula on its row, moved with the row.
            for r in first..=total_row {
                assert!(formula(&out, sheet, r, col).contains(&format!("/C{r}")), "{label}: rate in {letter}{r}: {}", formula(&out, sheet, r, col));
            }
            continue;
        };
        let ind = used.iter().find(|x| x.key == key).expect("indicator");
        let recorded = has_records(db, defs, &ind.ledger, ctx).await;
        let places = &by_village.iter().find(|r| r.key == key).expect("rolled up").places;
        assert_eq!(places.len(), VILLAGES as usize);
        for (n, v) in places.iter().enumerate() {
            let r = FIRST_ROW + u32::try_from(n).unwrap_or(0);
            assert_eq!(cell(&out, sheet, r, 1), Data::String(v.name.clone()), "{label}: row {r}");
            assert_eq!(cell(&out, sheet, r, col), expected(v.value, recorded), "{label}: {key} of {} in {letter}{r}", v.name);
            nonzero += usize::from(v.value != 0);
        }
        // 合计: the village rows' sum (the town's figure: no record of the seed lies outside a
        // village), or 未登记 when no village row holds a number.
        assert_eq!(
            formula(&out, sheet, total_row, col),
            format!("IF(COUNT({letter}{first}:{letter}{last})=0,\"未登记\",SUM({letter}{first}:{letter}{last}))"),
            "{label}: {key}"
        );
        let def = eval::ledger_of(ind, defs).expect("ledger");
        let town = eval::evaluate(&mut tx, ind, def, ctx).await.expect("town").value;
        assert_eq!(places.iter().map(|p| p.value).sum::<i64>(), town, "{label}: {key}: the village rows add up to the town");
    }
    nonzero
}

/// The months the forms are filled for: May 2023 (records in both villages) and June 2022
/// (records in one village of each event ledger).
const MONTHS: [&str; 2] = ["2023-05", "2022-06"];

both!(county_forms_against_the_rollup, |db: Db| async move {
    let (defs, _) = seed(&db).await;
    for m in MONTHS {
        let ctx = month(m);
        for form in &COUNTY_FORMS {
            let nonzero = check_form(&db, &defs, form, &ctx).await;
            assert!(nonzero >= 2, "{} {m}: figures that are not all zero ({nonzero})", form.file);
        }
    }
});

// The counts of records found in the month, by village, counted in SQL here: the forms' first
// columns, and a village without such records shows a true 0 in a month others have some.
both!(found_in_the_month_counted_in_sql, |db: Db| async move {
    let (defs, _) = seed(&db).await;
    for m in MONTHS {
        let ctx = month(m);
        for (file, sheet, table, field) in [("hazards_monthly", "安全隐患月报", "ld_hazards", "found_on"), ("disputes_monthly", "矛盾纠纷月报", "ld_disputes", "accepted_on")] {
            let out = fill(&db, &defs, file, &ctx).await;
            let counts = counted(&db, table, field, &ctx).await;
            for r in FIRST_ROW..FIRST_ROW + VILLAGES {
                let Data::String(name) = cell(&out, sheet, r, 1) else { panic!("{file}: village name in row {r}") };
                let n = counts.get(&name).copied().unwrap_or(0);
                assert_eq!(cell(&out, sheet, r, 2), Data::Float(n as f64), "{file} {m} {name}");
            }
            assert!(counts.len() == 1 || m == "2023-05", "{file} {m}: one village only: {counts:?}");
        }
        // 新识别纳入 (approved only): counted the same way.
        let out = fill(&db, &defs, "monitoring_monthly", &ctx).await;
        let mut tx = db.read().await.expect("read");
        let sql = "SELECT p.name, COUNT(*) FROM ld_monitoring t JOIN places p ON p.id = t.place_id WHERE t.identified_on >= $1 AND t.identified_on <= $2 AND t.state NOT LIKE 'identify%' AND t.voided_at IS NULL GROUP BY p.name";
        let rows = tx.fetch(sql, &[Arg::Date(ctx.period.start), Arg::Date(ctx.period.end)]).await.expect(sql);
        let counts: BTreeMap<String, i64> = rows.iter().map(|r| (r.text(0), r.int(1))).collect();
        for r in FIRST_ROW..FIRST_ROW + VILLAGES {
            let Data::String(name) = cell(&out, "防返贫监测月报", r, 1) else { panic!("village name") };
            assert_eq!(cell(&out, "防返贫监测月报", r, 4), Data::Float(counts.get(&name).copied().unwrap_or(0) as f64), "{m} {name}: 新识别纳入户数");
        }
    }
});

// A month whose event ledgers hold no record anywhere: every figure of theirs says 未登记, in
// the villages' rows and (by its formula) in 合计; the standing monitoring ledger still counts.
both!(an_empty_month_says_unrecorded, |db: Db| async move {
    let (defs, _) = seed(&db).await;
    let ctx = month("2022-09");
    for form in &COUNTY_FORMS {
        check_form(&db, &defs, form, &ctx).await;
    }
    for (file, sheet) in [("hazards_monthly", "安全隐患月报"), ("disputes_monthly", "矛盾纠纷月报")] {
        let out = fill(&db, &defs, file, &ctx).await;
        for r in FIRST_ROW..FIRST_ROW + VILLAGES {
            for c in 2..7 {
                assert_eq!(cell(&out, sheet, r, c), Data::String(UNRECORDED.into()), "{file} row {r} column {c}");
            }
        }
    }
    let out = fill(&db, &defs, "monitoring_monthly", &ctx).await;
    assert_eq!(cell(&out, "防返贫监测月报", FIRST_ROW, 2), Data::Float(2.0), "坪溪村: H1 and H2 monitored at the end of September 2022");
    assert_eq!(cell(&out, "防返贫监测月报", FIRST_ROW, 4), Data::Float(0.0), "no one identified that month: a true 0");
});

// 社会救助月报 for November 2022: 低保 is in force (figures), but no payment, 特困 or 临时救助 is
// entered — those cells say 未登记, never 0.00; the warning after writing still names them.
both!(social_assistance_for_a_month_without_payments, |db: Db| async move {
    let (defs, _) = seed(&db).await;
    let ctx = month("2022-11");
    let inds = indicator::builtin().expect("indicators");
    let template = form::builtin_form("social_assistance_monthly").expect("form");
    let mut tx = db.read().await.expect("read");
    let (out, data) = render::gather_with_data(&mut tx, &inds, &defs, &ctx, |data| form::fill(template, data, &options())).await.expect("fill");
    let sheet = "社会救助月报";
    let un = Data::String(UNRECORDED.into());
    // 坪溪村, 茅坡村, 合计: 低保户数, 人数 counted; 金额 and the rest 未登记.
    assert_eq!(cell(&out, sheet, 5, 2), Data::Float(1.0));
    assert_eq!(cell(&out, sheet, 5, 3), Data::Float(2.0));
    assert_eq!(cell(&out, sheet, 6, 2), Data::Float(0.0), "茅坡村 has no 低保 while the ledger is kept: a true 0");
    assert_eq!(cell(&out, sheet, 7, 2), Data::Float(1.0));
    for r in 5..=7 {
        for c in 4..=8 {
            assert_eq!(cell(&out, sheet, r, c), un, "row {r} column {c}");
        }
    }
    let xml = part(&out, "xl/worksheets/sheet1.xml");
    assert!(!xml.contains("<v>0.00</v>"), "no 0.00 where nothing is entered: {xml}");
    // The warning is still given, one per ledger with no record.
    let said = warnings::empty_ledgers(&mut tx, &defs, &ctx, &data).await.expect("warnings");
    for name in ["低保金发放台账", "特困供养金发放台账", "临时救助台账"] {
        assert!(said.iter().any(|w| w.contains(name)), "{name}: {said:?}");
    }
    assert!(!said.iter().any(|w| w.contains("「低保对象台账」")), "{said:?}");

    // A month later: October's payment is there, and the cells are numbers again.
    let ctx = month("2022-10");
    let (out, _) = render::gather_with_data(&mut tx, &inds, &defs, &ctx, |data| form::fill(template, data, &options())).await.expect("fill");
    assert_eq!(cell(&out, sheet, 5, 4), Data::Float(300.0));
    assert_eq!(cell(&out, sheet, 6, 4), Data::Float(0.0), "茅坡村 was paid nothing in a month with payments: a true 0");
    assert_eq!(cell(&out, sheet, 5, 6), un, "特困供养金 still not entered");
});

// A clerk's own cells: `fig` and `hp` say 未登记 too, and `recorded(…)` decides in a cell.
both!(a_clerks_cells_decide_with_recorded, |db: Db| async move {
    use rust_xlsxwriter::Workbook;
    let (defs, _) = seed(&db).await;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("月报").expect("name");
    for (c, text) in [
        "{{ fig(\"dibao_paid\", \"wan:2\") }}",
        "{{ hp(\"dibao_households\", \"dibao_people\") }}",
        "{{ \"已登记\" if recorded(\"dibao_paid\") else \"本月发放未登记\" }}",
        "{{ recorded(\"dibao_households\") }}",
        "{{ num(\"temporary_relief_amount\") }}",
    ]
    .into_iter()
    .enumerate()
    {
        ws.write_string(0, u16::try_from(c).unwrap_or(0), text).expect("cell");
    }
    let tpl = wb.save_to_buffer().expect("save");
    let inds = indicator::builtin().expect("indicators");
    let mut tx = db.read().await.expect("read");
    let out = render::gather_for(&mut tx, &inds, &defs, &month("2022-11"), |data| form::fill(&tpl, data, &options())).await.expect("fill");
    let row: Vec<Data> = (0..5).map(|c| cell(&out, "月报", 1, c)).collect();
    assert_eq!(
        row,
        vec![
            Data::String(UNRECORDED.into()),
            Data::String("1户2人".into()),
            Data::String("本月发放未登记".into()),
            Data::String("true".into()),
            Data::String(UNRECORDED.into()),
        ]
    );
});

/// The committed forms are what `examples/make_forms.rs` writes, each has a Chinese name, and
/// the columns name indicators of the catalogue.
#[test]
fn templates_are_generated() {
    let inds = indicator::builtin().expect("indicators");
    let forms = form::builtin_forms();
    for f in &COUNTY_FORMS {
        let made = make_forms::county_form(f).expect("generate");
        assert!(form::builtin_form(f.file) == Some(made.as_slice()), "{}: run cargo run -p taizhang-reports --example make_forms", f.file);
        assert!(forms.iter().any(|x| x == f.file), "{}: {forms:?}", f.file);
        assert!(render::builtin_name(f.file).is_some(), "{}: no name in catalogue/templates/names.toml", f.file);
        for (_, _, figure, _) in f.columns {
            if let Figure::Indicator(key) = figure {
                let ind = inds.iter().find(|i| i.key == *key).unwrap_or_else(|| panic!("{}: no indicator {key}", f.file));
                assert!(inds.iter().any(|i| i.key == format!("{}_records", ind.ledger)), "{key}: {}_records counts its ledger's records", ind.ledger);
            }
        }
    }
    assert!(form::builtin_form("social_assistance_monthly") == Some(make_forms::social_assistance_monthly().expect("generate").as_slice()));
}
