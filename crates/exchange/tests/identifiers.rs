//! No identifier through a float, and one normaliser for identifiers, on every path.
//!
//! A 16-digit 户编号 that Excel stored as a number (it keeps 15 significant digits) once
//! attached ten households' payments to one household, exit 0. Every import path now refuses
//! an ID number, 户编号, account or phone given as a number cell or as Excel's float text
//! ("4.33024E+17"), saying what Excel did and how to fix the column, and writes nothing. What
//! can be forgiven (full-width digits, spaces inside, a leading apostrophe, a lower-case x, the
//! old 15 digits) is read the same by the ledger imports (batch and per-row paths), the 花名册,
//! forms (`parse_field`, `refs::parse_values`) and lookups (`refs::resolve`). The headers of
//! the provincial systems (公民身份号码, 户主身份证号码, 证件号码 …) import into the right ledgers.

mod common;
use common::*;

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use taizhang_domain::idcard::check_character;
use taizhang_domain::ledger::RefTarget;
use taizhang_domain::role::Actor;
use taizhang_domain::validate::parse_field;
use taizhang_domain::value::{Record, Value};
use taizhang_exchange::{import_file, ImportOptions, ImportReport, Verdict};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, persons, refs, Db, Scope};

/// A cell of a generated sheet.
enum C {
    T(String),
    N(f64),
    D(u16, u8, u8),
    E,
}

fn t(s: impl Into<String>) -> C {
    C::T(s.into())
}

/// What Excel keeps of a long number typed into a General cell: 15 significant digits.
fn excel_number(digits: &str) -> C {
    let v: f64 = digits.parse().expect("digits");
    C::N(format!("{v:.14e}").parse().expect("float"))
}

fn xlsx(path: &Path, sheet: &str, header: &[&str], rows: &[Vec<C>]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (c, h) in (0u16..).zip(header) {
        ws.write_string(0, c, *h).expect("header");
    }
    for (r, row) in (1u32..).zip(rows) {
        for (c, cell) in (0u16..).zip(row) {
            match cell {
                C::T(s) => {
                    ws.write_string(r, c, s).expect("text");
                }
                C::N(n) => {
                    ws.write_number(r, c, *n).expect("number");
                }
                C::D(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    ws.write_datetime_with_format(r, c, &dt, &date).expect("date");
                }
                C::E => {}
            }
        }
    }
    wb.save(path).expect("save");
}

async fn import(db: &Db, path: &Path, ledger: &str) -> ImportReport {
    let o = ImportOptions { ledger: Some(ledger.into()), ..Default::default() };
    let r = import_file(db, &Actor::System, &Scope::all(), path, &o, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

async fn records_of(db: &Db, key: &str) -> Vec<Record> {
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, key).await.expect("def");
    records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list")
}

async fn person_count(db: &Db) -> i64 {
    let mut tx = db.read().await.expect("read");
    persons::count(&mut tx, &Scope::all()).await.expect("count")
}

/// Every row refused, each naming `column` with Excel's explanation; nothing written.
fn all_refused_as_excel_numbers(r: &ImportReport, rows: usize, column: &str) {
    assert_eq!((r.read, r.rejected, r.committed), (rows, rows, false), "{} {:?}", r.summary(), r.rejections);
    assert!(r.verdicts.iter().all(|(_, v)| v == Verdict::Rejected));
    for x in &r.rejections {
        assert!(x.column.contains(column), "{x:?}");
        assert!(x.reason.contains("被 Excel 存成了数字") && x.reason.contains("请把该列设为文本格式后重新填写"), "{x:?}");
    }
    let rows_refused: std::collections::BTreeSet<u32> = r.rejections.iter().map(|x| x.row).collect();
    assert_eq!(rows_refused.len(), rows, "{:?}", r.rejections);
}

/// 16-digit 户编号 of ten households in 坪溪村: 4312241102010000 … 4312241102010009. Excel
/// keeps 15 significant digits, so nine of them typed as numbers all read 4312241102010000.
fn household_number(i: usize) -> String {
    format!("431224110201000{i}")
}

/// Ten households, each with its head; returns the households' ids.
async fn ten_households(db: &Db) -> Vec<i64> {
    let t = town(db).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let head = person(db, &format!("户主{i}"), &id_number("433024", "19600101", 100 + i as u32), t.pingxi.id).await;
        ids.push(household(db, &household_number(i), &head).await);
    }
    ids
}

both!(a_household_code_stored_as_a_number_is_refused_on_every_row, |db: Db| async move {
    let ids = ten_households(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // The headline: ten households' payments, 户编号 typed as numbers. Before, nine of them
    // landed on household …0000 and the import said nothing.
    let path = dir.path().join("低保发放.xlsx");
    let rows: Vec<Vec<C>> = (0..10).map(|i| vec![excel_number(&household_number(i)), t("2023-07"), t("正常发放"), C::N(520.0)]).collect();
    xlsx(&path, "低保金发放", &["户编号", "发放月份", "发放类别", "发放金额（元）"], &rows);
    let r = import(&db, &path, "dibao_payments").await;
    all_refused_as_excel_numbers(&r, 10, "户编号");
    assert!(r.rejections[1].reason.contains("4312241102010000") && r.rejections[1].reason.contains("后几位已丢失"), "{:?}", r.rejections[1]);
    assert_eq!(record_count(&db, "dibao_payments").await, 0);

    // The same with the head's ID number as a number, and as the text Excel shows for it.
    let head = id_number("433024", "19600101", 100);
    let path = dir.path().join("低保发放2.xlsx");
    xlsx(
        &path,
        "低保金发放",
        &["户主身份证号码", "发放月份", "发放金额"],
        &[vec![excel_number(&head), t("2023-07"), C::N(520.0)], vec![t("4.33024196001E+17"), t("2023-07"), C::N(520.0)]],
    );
    let r = import(&db, &path, "dibao_payments").await;
    all_refused_as_excel_numbers(&r, 2, "户主身份证号码");

    // The per-row path (a workflow ledger) refuses the same way.
    let path = dir.path().join("监测.xlsx");
    let rows: Vec<Vec<C>> = (1..4).map(|i| vec![excel_number(&household_number(i)), t("边缘易致贫户"), t("因病"), C::N(3.0), C::D(2023, 3, 1)]).collect();
    xlsx(&path, "防返贫监测", &["户编号", "监测对象类别", "风险类型", "家庭人口数", "识别纳入日期"], &rows);
    let r = import(&db, &path, "monitoring").await;
    all_refused_as_excel_numbers(&r, 3, "户编号");
    assert_eq!(record_count(&db, "monitoring").await, 0);

    // A reference to a household (领取户) in a ledger without a subject.
    let path = dir.path().join("物资.xlsx");
    xlsx(
        &path,
        "物资发放",
        &["发放日期", "所属村", "物资名称", "数量", "单位", "领取单位或个人", "领取户"],
        &[vec![C::D(2023, 5, 1), t("坪溪村"), t("垃圾桶"), C::N(1.0), t("个"), t("户主1"), excel_number(&household_number(1))]],
    );
    let r = import(&db, &path, "environment_supplies").await;
    all_refused_as_excel_numbers(&r, 1, "领取户");

    // Typed as text, the same numbers find their own households, one payment each.
    let path = dir.path().join("低保发放3.xlsx");
    let rows: Vec<Vec<C>> = (0..10).map(|i| vec![t(household_number(i)), t("2023-07"), t("正常发放"), C::N(520.0)]).collect();
    xlsx(&path, "低保金发放", &["户编号", "发放月份", "发放类别", "发放金额（元）"], &rows);
    let r = import(&db, &path, "dibao_payments").await;
    assert_eq!((r.new, r.committed), (10, true), "{:?}", r.rejections);
    let mut subjects: Vec<i64> = records_of(&db, "dibao_payments").await.iter().filter_map(|r| r.subject_id).collect();
    subjects.sort_unstable();
    let mut want = ids.clone();
    want.sort_unstable();
    assert_eq!(subjects, want, "one payment for each household");
});

both!(an_id_number_stored_as_a_number_is_refused_on_both_paths, |db: Db| async move {
    let t0 = town(&db).await;
    let id = id_number("433024", "19700101", 11);
    person(&db, "王五", &id, t0.pingxi.id).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let floaty = || vec![excel_number(&id), t("4.33024197001E+17"), t(format!("{}.0", &id[..17]))];

    // Batch path: a person ledger keyed on its subject.
    let path = dir.path().join("特困发放.xlsx");
    let rows: Vec<Vec<C>> = floaty().into_iter().map(|c| vec![c, t("2023-07"), t("基本生活费"), t("分散供养"), C::N(600.0)]).collect();
    xlsx(&path, "特困供养金发放", &["公民身份号码", "发放月份", "费用类别", "供养方式", "发放金额"], &rows);
    let r = import(&db, &path, "destitute_payments").await;
    all_refused_as_excel_numbers(&r, 3, "公民身份号码");
    assert_eq!(record_count(&db, "destitute_payments").await, 0);

    // Per-row path: a person ledger keyed on a field.
    let path = dir.path().join("采伐证.xlsx");
    let rows: Vec<Vec<C>> = floaty().into_iter().zip(1..).map(|(c, n)| vec![c, t(format!("湘采（2023）{n}号")), C::D(2023, 4, 1)]).collect();
    xlsx(&path, "采伐许可证", &["身份证号码", "许可证号", "发证日期"], &rows);
    let r = import(&db, &path, "felling_permits").await;
    all_refused_as_excel_numbers(&r, 3, "身份证号码");
    assert_eq!(record_count(&db, "felling_permits").await, 0);

    // A text field holding an ID number (监护人公民身份号码).
    let path = dir.path().join("重点人群.xlsx");
    let guardian = id_number("433024", "19450101", 21);
    xlsx(
        &path,
        "重点人群",
        &["公民身份号码", "人员类别", "列管日期", "监护人公民身份号码"],
        &[vec![t(id.clone()), t("刑满释放人员"), C::D(2023, 2, 1), excel_number(&guardian)], vec![t(id.clone()), t("其他"), C::D(2023, 2, 1), t("4.33024194501E+17")]],
    );
    let r = import(&db, &path, "key_population").await;
    all_refused_as_excel_numbers(&r, 2, "监护人公民身份号码");
    assert_eq!(record_count(&db, "key_population").await, 0);
});

both!(the_roster_refuses_identifiers_stored_as_numbers, |db: Db| async move {
    let _ = town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("花名册.xlsx");
    let a = id_number("433024", "19700101", 11);
    let b = id_number("433024", "19720202", 22);
    let header = ["户编号", "姓名", "公民身份号码", "与户主关系", "所属村", "户主身份证号码", "联系电话"];
    let rows = vec![
        vec![t("4312241102010001"), t("王五"), excel_number(&a), t("户主"), t("坪溪村"), C::E, C::E],
        vec![t("4312241102010001"), t("王五"), t("4.33024197001E+17"), t("户主"), t("坪溪村"), C::E, C::E],
        vec![excel_number("4312241102010001"), t("王五"), t(a.clone()), t("户主"), t("坪溪村"), C::E, C::E],
        vec![C::E, t("赵六"), t(b.clone()), t("配偶"), t("坪溪村"), excel_number(&a), C::E],
        vec![C::E, t("赵六"), t(b.clone()), C::E, t("坪溪村"), C::E, C::N(13800138000.0)],
    ];
    xlsx(&path, "花名册", &header, &rows);
    let r = import(&db, &path, "persons").await;
    assert_eq!((r.read, r.rejected, r.committed), (5, 5, false), "{} {:?}", r.summary(), r.rejections);
    let columns: Vec<(u32, &str)> = r.rejections.iter().map(|x| (x.row, x.column.as_str())).collect();
    assert_eq!(columns, vec![(2, "C 公民身份号码"), (3, "C 公民身份号码"), (4, "A 户编号"), (5, "F 户主身份证号码"), (6, "G 联系电话")]);
    for x in &r.rejections {
        assert!(x.reason.contains("被 Excel 存成了数字") && x.reason.contains("文本格式"), "{x:?}");
    }
    assert_eq!(person_count(&db).await, 0, "nothing written");
});

both!(a_bank_account_is_an_identifier, |db: Db| async move {
    let t0 = town(&db).await;
    let head = person(&db, "王五", &id_number("433024", "19700101", 11), t0.pingxi.id).await;
    household(&db, "4312241102010001", &head).await;
    let head2 = person(&db, "李四", &id_number("433024", "19710101", 13), t0.pingxi.id).await;
    household(&db, "4312241102010002", &head2).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let header = ["户编号", "城乡类别", "保障人口数", "审批日期", "银行卡号"];
    let path = dir.path().join("低保对象.xlsx");
    xlsx(
        &path,
        "低保对象",
        &header,
        &[
            vec![t("4312241102010001"), t("农村"), C::N(3.0), C::D(2023, 1, 5), excel_number("6217002920001234567")],
            vec![t("4312241102010002"), t("农村"), C::N(2.0), C::D(2023, 1, 5), t("6.21700292000123E+18")],
        ],
    );
    let r = import(&db, &path, "dibao").await;
    all_refused_as_excel_numbers(&r, 2, "银行卡号");
    assert_eq!(record_count(&db, "dibao").await, 0);

    // As text, spaces inside, full-width digits and Excel's apostrophe are folded away.
    let path = dir.path().join("低保对象2.xlsx");
    xlsx(
        &path,
        "低保对象",
        &header,
        &[
            vec![t("4312241102010001"), t("农村"), C::N(3.0), C::D(2023, 1, 5), t(" 6217 0029 2000 1234 567 ")],
            vec![t("4312241102010002"), t("农村"), C::N(2.0), C::D(2023, 1, 5), t("'６２１７００２９２０００１２３４５６８")],
        ],
    );
    let r = import(&db, &path, "dibao").await;
    assert_eq!((r.new, r.rejected), (2, 0), "{:?}", r.rejections);
    let mut accounts: Vec<Value> = records_of(&db, "dibao").await.iter().map(|r| r.values.get("account_no").cloned().unwrap_or(Value::Null)).collect();
    accounts.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(accounts, vec![Value::Text("6217002920001234567".into()), Value::Text("6217002920001234568".into())]);
    // Imported again with the plain spelling: nothing changes.
    let path = dir.path().join("低保对象3.xlsx");
    xlsx(
        &path,
        "低保对象",
        &header,
        &[
            vec![t("4312241102010001"), t("农村"), C::N(3.0), C::D(2023, 1, 5), t("6217002920001234567")],
            vec![t("4312241102010002"), t("农村"), C::N(2.0), C::D(2023, 1, 5), t("6217002920001234568")],
        ],
    );
    let r = import(&db, &path, "dibao").await;
    assert_eq!((r.unchanged, r.rejected), (2, 0), "{:?}", r.rejections);
});

/// A valid ID number born on `birth` whose check character is X, from sequence `from` on.
fn id_with_x(birth: &str, from: u32) -> (String, u32) {
    (from..999)
        .find_map(|seq| {
            let first17 = format!("433024{birth}{seq:03}");
            (check_character(&first17) == Some('X')).then(|| (format!("{first17}X"), seq))
        })
        .expect("some sequence gives X")
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | 'a'..='z' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// The ways one ID number is written, and how it must be read: `(written, 15 digits?)`.
/// The number is born in 1970 and ends in X, so every spelling applies.
fn spellings(id: &str, seq: u32) -> Vec<(String, bool)> {
    let lower = id.to_lowercase();
    vec![
        (id.to_string(), false),
        (full_width(&lower), false),
        (format!(" {} {} {} ", &lower[..6], &lower[6..14], &lower[14..]), false),
        (format!("'{id}"), false),
        (lower.clone(), false),
        (format!("{}\u{3000}{}", &id[..6], &id[6..]), false),
        (format!("433024700101{seq:03}"), true),
    ]
}

both!(every_spelling_of_an_id_number_reaches_the_same_person, |db: Db| async move {
    let t0 = town(&db).await;
    let (id, seq) = id_with_x("19700101", 1);
    let p = person(&db, "王五", &id, t0.pingxi.id).await;
    let hid = household(&db, "4312241102010001", &p).await;
    let spelled = spellings(&id, seq);
    let dir = tempfile::tempdir().expect("tempdir");

    // Ledger import, batch path: one payment a month, each month written another way.
    let path = dir.path().join("特困发放.xlsx");
    let rows: Vec<Vec<C>> =
        spelled.iter().zip(1..).map(|((s, _), m)| vec![t(s.clone()), t(format!("2023-{m:02}")), t("基本生活费"), t("分散供养"), C::N(600.0)]).collect();
    xlsx(&path, "特困供养金发放", &["公民身份号码", "发放月份", "费用类别", "供养方式", "发放金额"], &rows);
    let r = import(&db, &path, "destitute_payments").await;
    assert_eq!((r.new, r.rejected), (spelled.len(), 0), "{:?}", r.rejections);
    assert!(records_of(&db, "destitute_payments").await.iter().all(|r| r.subject_id == Some(p.id)));
    // The 15-digit row (the last) is named in a warning.
    let last = spelled.len() + 1;
    assert!(
        r.warnings.iter().any(|w| w.contains(&format!("第 {last} 行")) && w.contains("15 位旧身份证号") && w.contains(&id)),
        "{:?}",
        r.warnings
    );

    // Ledger import, per-row path.
    let path = dir.path().join("采伐证.xlsx");
    let rows: Vec<Vec<C>> = spelled.iter().zip(1..).map(|((s, _), n)| vec![t(s.clone()), t(format!("湘采（2023）{n}号")), C::D(2023, 4, 1)]).collect();
    xlsx(&path, "采伐许可证", &["身份证号码", "许可证号", "发证日期"], &rows);
    let r = import(&db, &path, "felling_permits").await;
    assert_eq!((r.new, r.rejected), (spelled.len(), 0), "{:?}", r.rejections);
    assert!(records_of(&db, "felling_permits").await.iter().all(|r| r.subject_id == Some(p.id)));

    // A household named by its head's ID number, and by its 户编号 written the same ways.
    let path = dir.path().join("低保发放.xlsx");
    let mut rows: Vec<Vec<C>> = spelled.iter().zip(1..).map(|((s, _), m)| vec![C::E, t(s.clone()), t(format!("2023-{m:02}")), C::N(520.0)]).collect();
    for (code, m) in [("4312 2411 0201 0001", 8), ("４３１２２４１１０２０１０００１", 9), ("'4312241102010001", 10)] {
        rows.push(vec![t(code), C::E, t(format!("2023-{m:02}")), C::N(520.0)]);
    }
    xlsx(&path, "低保金发放", &["户编号", "户主身份证号码", "发放年月", "保障金额"], &rows);
    let r = import(&db, &path, "dibao_payments").await;
    assert_eq!((r.new, r.rejected), (spelled.len() + 3, 0), "{:?}", r.rejections);
    assert!(records_of(&db, "dibao_payments").await.iter().all(|r| r.subject_id == Some(hid)));

    // A form (and the CLI and the API, which parse the same way): the field's value is the
    // normalised number, directly and through refs::parse_values.
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "key_population").await.expect("def");
    let field = def.field("guardian_id_number").expect("field").clone();
    for (s, _) in &spelled {
        assert_eq!(parse_field(&field, s, today()), Ok(Value::Text(id.clone())), "{s:?}");
        let values = refs::parse_values(&mut tx, &Scope::all(), &def, &[("监护人公民身份号码".into(), s.clone())], today()).await.expect("parse");
        assert_eq!(values.get("guardian_id_number"), Some(&Value::Text(id.clone())), "{s:?}");
    }
    // Lookups by what a person typed: the person, and the household by its head or number.
    for (s, _) in &spelled {
        assert_eq!(refs::resolve(&mut tx, &Scope::all(), &RefTarget::Person, s).await.expect(s), p.id, "{s:?}");
        assert_eq!(refs::resolve(&mut tx, &Scope::all(), &RefTarget::Household, s).await.expect(s), hid, "{s:?}");
    }
    for code in ["4312 2411 0201 0001", "４３１２２４１１０２０１０００１", "'4312241102010001", "\u{3000}4312241102010001"] {
        assert_eq!(refs::resolve(&mut tx, &Scope::all(), &RefTarget::Household, code).await.expect(code), hid, "{code:?}");
    }
    // What cannot be anyone's number says why.
    let e = refs::resolve(&mut tx, &Scope::all(), &RefTarget::Person, "4.33024197001E+17").await.expect_err("excel");
    assert!(e.to_string().contains("被 Excel 存成了数字"), "{e}");
    let e = refs::resolve(&mut tx, &Scope::all(), &RefTarget::Household, "4.31224110201E+15").await.expect_err("excel");
    assert!(e.to_string().starts_with("户编号被 Excel 存成了数字"), "{e}");
    drop(tx);
});

both!(the_roster_reads_every_spelling_the_same_way, |db: Db| async move {
    let _ = town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Seven people, each written one of the ways: registered under their normalised number.
    let mut people: Vec<(String, String)> = Vec::new();
    let mut next = 1;
    for i in 0..7 {
        let (id, seq) = id_with_x("19700101", next);
        next = seq + 1;
        let (written, _) = spellings(&id, seq).swap_remove(i);
        people.push((id, written));
    }
    let header = ["姓名", "公民身份号码", "所属村"];
    let path = dir.path().join("花名册.xlsx");
    let rows: Vec<Vec<C>> = people.iter().enumerate().map(|(i, (_, w))| vec![t(format!("村民{i}")), t(w.clone()), t("坪溪村")]).collect();
    xlsx(&path, "花名册", &header, &rows);
    let r = import(&db, &path, "persons").await;
    assert_eq!((r.new, r.rejected), (7, 0), "{:?}", r.rejections);
    // The 15-digit one (row 8) is told.
    assert!(r.warnings.iter().any(|w| w.starts_with("第 8 行：") && w.contains("15 位旧身份证号")), "{:?}", r.warnings);
    let mut tx = db.read().await.expect("read");
    for (i, (id, w)) in people.iter().enumerate() {
        let p = persons::by_id_number(&mut tx, &Scope::all(), id).await.expect("q").unwrap_or_else(|| panic!("{w:?} stored as {id}"));
        assert_eq!(p.name, format!("村民{i}"));
    }
    drop(tx);
    // The same people written the plain way: all 未变.
    let path = dir.path().join("花名册2.xlsx");
    let rows: Vec<Vec<C>> = people.iter().enumerate().map(|(i, (id, _))| vec![t(format!("村民{i}")), t(id.clone()), t("坪溪村")]).collect();
    xlsx(&path, "花名册", &header, &rows);
    let r = import(&db, &path, "persons").await;
    assert_eq!((r.unchanged, r.rejected), (7, 0), "{:?}", r.rejections);
});

both!(headers_of_the_provincial_systems_import_into_the_right_ledgers, |db: Db| async move {
    let t0 = town(&db).await;
    let a = person(&db, "王五", &id_number("433024", "19700101", 11), t0.pingxi.id).await;
    let ha = household(&db, "4312241102010001", &a).await;
    let b = person(&db, "李四", &id_number("433024", "19710101", 13), t0.pingxi.id).await;
    let hb = household(&db, "4312241102010002", &b).await;
    let dir = tempfile::tempdir().expect("tempdir");

    // 社会救助信息系统's payment list: by the head's ID number, 保障人口数, 发放年月, 保障金额.
    let path = dir.path().join("低保发放.xlsx");
    xlsx(
        &path,
        "低保金发放",
        &["序号", "户主姓名", "户主身份证号码", "保障人口数", "发放年月", "保障金额", "发放日期"],
        &[
            vec![C::N(1.0), t("王五"), t(a.id_number.clone()), C::N(3.0), t("2023-07"), C::N(520.0), C::D(2023, 7, 10)],
            vec![C::N(2.0), t("李四"), t(b.id_number.clone()), C::N(2.0), t("2023-07"), C::N(400.0), C::D(2023, 7, 10)],
        ],
    );
    let r = import(&db, &path, "dibao_payments").await;
    assert_eq!((r.new, r.rejected), (2, 0), "{:?}", r.rejections);
    let recs = records_of(&db, "dibao_payments").await;
    let of = |h: i64| recs.iter().find(|r| r.subject_id == Some(h)).expect("record");
    assert_eq!(of(ha).values.get("amount"), Some(&Value::Int(52_000)));
    assert_eq!(of(ha).values.get("household_size"), Some(&Value::Int(3)));
    assert_eq!(of(hb).values.get("pay_month"), Some(&Value::Text("2023-07".into())));
    assert!(r.unknown_columns.iter().all(|(_, h)| h == "户主姓名"), "{:?}", r.unknown_columns);

    // 特困: the person by 证件号码.
    let path = dir.path().join("特困发放.xlsx");
    xlsx(
        &path,
        "特困供养金发放",
        &["姓名", "证件号码", "发放年月", "费用类别", "供养方式", "发放金额（元）"],
        &[vec![t("王五"), t(a.id_number.clone()), t("2023-07"), t("基本生活费"), t("分散供养"), C::N(600.0)]],
    );
    let r = import(&db, &path, "destitute_payments").await;
    assert_eq!((r.new, r.rejected), (1, 0), "{:?}", r.rejections);
    assert_eq!(records_of(&db, "destitute_payments").await[0].subject_id, Some(a.id));

    // 户编号 and 户主身份证号码 side by side (the monitoring system's export): they must agree.
    for (ledger, path) in [("dibao_payments", dir.path().join("两列.xlsx")), ("temporary_relief", dir.path().join("临时救助.xlsx"))] {
        let (header, rows): (&[&str], Vec<Vec<C>>) = if ledger == "dibao_payments" {
            (
                &["户编号", "户主身份证号码", "发放年月", "保障金额"],
                vec![
                    vec![t("4312241102010001"), t(a.id_number.clone()), t("2023-08"), C::N(520.0)],
                    vec![t("4312241102010002"), t(a.id_number.clone()), t("2023-08"), C::N(400.0)],
                ],
            )
        } else {
            (
                &["户编号", "身份证号码", "救助日期", "救助金额"],
                vec![
                    vec![t("4312241102010001"), t(a.id_number.clone()), C::D(2023, 8, 1), C::N(1000.0)],
                    vec![t("4312241102010002"), t(a.id_number.clone()), C::D(2023, 8, 1), C::N(800.0)],
                ],
            )
        };
        xlsx(&path, "表", header, &rows);
        let before = record_count(&db, ledger).await;
        let r = import(&db, &path, ledger).await;
        assert_eq!((r.read, r.rejected, r.committed), (2, 1, false), "{ledger}: {:?}", r.rejections);
        let x = &r.rejections[0];
        assert_eq!(x.row, 3, "{ledger}");
        assert!(x.column.ends_with(header[1]), "{ledger}: {x:?}");
        assert!(x.reason.contains("不是同一个") && x.reason.contains("户"), "{ledger}: {x:?}");
        assert_eq!(record_count(&db, ledger).await, before);
    }

    // The per-row path (a workflow ledger) checks the same.
    let path = dir.path().join("监测.xlsx");
    xlsx(
        &path,
        "防返贫监测",
        &["户编号", "户主证件号码", "监测对象类别", "致贫返贫风险", "家庭人口数", "识别监测时间"],
        &[
            vec![t("4312241102010001"), t(a.id_number.clone()), t("边缘易致贫户"), t("因病"), C::N(3.0), C::D(2023, 3, 1)],
            vec![t("4312241102010002"), t(a.id_number.clone()), t("边缘易致贫户"), t("因病"), C::N(2.0), C::D(2023, 3, 1)],
        ],
    );
    let r = import(&db, &path, "monitoring").await;
    assert_eq!((r.read, r.rejected), (2, 1), "{:?}", r.rejections);
    assert_eq!(r.rejections[0].row, 3);
    assert!(r.rejections[0].column.ends_with("户主证件号码") && r.rejections[0].reason.contains("不是同一个"), "{:?}", r.rejections);
    assert!(!r.committed);
    // Only the agreeing row, with --partial.
    let o = ImportOptions { ledger: Some("monitoring".into()), partial: true, ..Default::default() };
    let r = import_file(&db, &Actor::System, &Scope::all(), &path, &o, today()).await.expect("import");
    assert_eq!((r.new, r.rejected), (1, 1), "{:?}", r.rejections);
    let recs = records_of(&db, "monitoring").await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].subject_id, Some(ha));
    assert_eq!(recs[0].values.get("category"), Some(&Value::Text("边缘易致贫户".into())));
});

both!(a_roster_with_the_heads_name_and_birth_dates, |db: Db| async move {
    let _ = town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let a = id_number("433024", "19700101", 11);
    let b = id_number("433024", "19720202", 22);
    let c = id_number("433024", "19950303", 33);
    let header = ["户编号", "户主姓名", "姓名", "公民身份号码", "出生日期", "与户主关系", "行政村", "村民小组", "户主身份证号码"];
    let rows = vec![
        vec![t("4312241102010001"), t("王五"), t("王五"), t(a.clone()), C::D(1970, 1, 1), t("户主"), t("坪溪村"), t("一组"), t(a.clone())],
        vec![t("4312241102010001"), t("王五"), t("赵六"), t(b.clone()), t("1972-02-02"), t("配偶"), t("坪溪村"), t("一组"), t(a.clone())],
        // The birth date disagrees with the ID number: refused, naming both.
        vec![t("4312241102010001"), t("王五"), t("王小"), t(c.clone()), C::D(1995, 3, 4), t("子"), t("坪溪村"), t("一组"), t(a.clone())],
    ];
    let path = dir.path().join("花名册.xlsx");
    xlsx(&path, "花名册", &header, &rows);
    let r = import(&db, &path, "persons").await;
    assert!(r.unknown_columns.is_empty(), "{:?}", r.unknown_columns);
    assert!(!r.warnings.iter().any(|w| w.contains("对应不到")), "{:?}", r.warnings);
    assert_eq!((r.read, r.rejected), (3, 1), "{:?}", r.rejections);
    let x = &r.rejections[0];
    assert_eq!((x.row, x.column.as_str()), (4, "E 出生日期"));
    assert!(x.reason.contains("1995-03-04") && x.reason.contains("1995-03-03") && x.reason.contains(&c), "{}", x.reason);
    assert_eq!(person_count(&db).await, 0, "all or nothing");
    // Corrected, the roster imports whole.
    let mut rows = rows;
    rows[2][4] = C::D(1995, 3, 3);
    xlsx(&path, "花名册", &header, &rows);
    let r = import(&db, &path, "persons").await;
    assert_eq!((r.new, r.rejected, r.committed), (3, 0, true), "{:?}", r.rejections);
});
