//! Import and export on both engines, with the messy files townships really send.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use taizhang_domain::role::Actor;
use taizhang_domain::value::{RecordInput, Value, Values};
use taizhang_exchange::{export_ledger, import_file, write_ledger_template, ExportQuery, ImportOptions, ImportReport, Verdict};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{households, ledgers, persons, Db, Scope};

/// A cell of a fixture row.
#[derive(Clone)]
enum C {
    S(&'static str),
    St(String),
    N(f64),
    D(u16, u8, u8),
    E,
}

fn write_xlsx(path: &Path, sheet: &str, top: &[&str], header: &[&str], rows: &[Vec<C>]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let mut r = 0u32;
    for t in top {
        ws.write_string(r, 0, *t).expect("top");
        r += 1;
    }
    for (c, h) in (0u16..).zip(header) {
        ws.write_string(r, c, *h).expect("header");
    }
    r += 1;
    for row in rows {
        for (c, cell) in (0u16..).zip(row) {
            match cell {
                C::S(s) => {
                    ws.write_string(r, c, *s).expect("s");
                }
                C::St(s) => {
                    ws.write_string(r, c, s).expect("s");
                }
                C::N(n) => {
                    ws.write_number(r, c, *n).expect("n");
                }
                C::D(y, m, d) => {
                    let dt = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    ws.write_datetime_with_format(r, c, &dt, &date).expect("d");
                }
                C::E => {}
            }
        }
        r += 1;
    }
    // Trailing rows that only look empty.
    ws.write_string(r, 0, " ").expect("blank");
    ws.write_string(r + 1, 2, "").expect("blank");
    wb.save(path).expect("save");
}

fn opts(ledger: Option<&str>) -> ImportOptions {
    ImportOptions { ledger: ledger.map(String::from), ..Default::default() }
}

async fn run(db: &Db, path: &Path, o: &ImportOptions) -> ImportReport {
    let r = import_file(db, &Actor::System, &Scope::all(), path, o, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

const HAZARD_HEADER: &[&str] = &["序号", "隐患\n地点", "发现日期", "所属村", "行业领域", "隐患　等级", "隐患描述", "整改资金（元）", "督办干部", "整改期限", "说明"];

fn hazard_rows() -> Vec<Vec<C>> {
    vec![
        vec![C::N(1.0), C::S("坪溪村组道边"), C::D(2023, 1, 5), C::S("坪溪村"), C::S("燃气"), C::S("一般"), C::S("液化气罐露天堆放"), C::S("1,234.50元"), C::S("刘干部"), C::S("2023/1/20"), C::S("自查")],
        vec![C::N(2.0), C::S("茅坡村小学"), C::S("2023.1.5"), C::S("茅坡村"), C::S(" 消防 "), C::S("重大"), C::S("消防通道堵塞"), C::S("1.2万元"), C::E, C::D(2023, 2, 1), C::E],
        vec![C::N(3.0), C::S("坪溪村便民店"), C::S("2023年1月5日"), C::S("坪溪村"), C::S("烟花爆竹"), C::S("一般"), C::S("超量储存"), C::N(800.0), C::E, C::E, C::E],
    ]
}

both!(messy_sheet_imports_then_reimports_unchanged, |db: Db| async move {
    let t = town(&db).await;
    let dir = dir();
    let path = dir.path().join("隐患排查.xlsx");
    write_xlsx(&path, "安全隐患排查整治台账", &["2023年北斗溪镇安全隐患排查整治台账", "填报单位：北斗溪镇安监站"], HAZARD_HEADER, &hazard_rows());
    // Recognised by sheet name.
    let r = run(&db, &path, &opts(None)).await;
    assert_eq!(r.target, "hazards");
    assert_eq!((r.read, r.new, r.rejected), (3, 3, 0), "{:?}", r.rejections);
    assert!(r.committed);
    assert_eq!(r.summary(), "读取 3 行：新增 3，更新 0，未变 0，拒绝 0");
    assert!(r.unknown_columns.iter().any(|(_, h)| h == "说明"), "{:?}", r.unknown_columns);
    assert!(r.warnings.iter().any(|w| w.contains("说明")));
    assert!(r.error_workbook.is_none());

    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "hazards").await.expect("def");
    let list = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    assert_eq!(list.len(), 3);
    for r in &list {
        assert_eq!(r.values.get("found_on"), Some(&Value::Date(d("2023-01-05"))));
    }
    assert_eq!(list[0].values.get("rectify_funds"), Some(&Value::Int(123450)));
    assert_eq!(list[1].values.get("rectify_funds"), Some(&Value::Int(1_200_000)));
    assert_eq!(list[2].values.get("rectify_funds"), Some(&Value::Int(80_000)));
    assert_eq!(list[1].values.get("industry"), Some(&Value::Text("消防".into())));
    assert_eq!(list[1].place_id, t.maopo.id);
    assert_eq!(list[0].values.get("rectify_deadline"), Some(&Value::Date(d("2023-01-20"))));
    assert!(list[0].values.contains_key("supervising_cadre"));
    drop(tx);

    let audits = audit_count(&db).await;
    let again = run(&db, &path, &opts(Some("hazards"))).await;
    assert_eq!((again.read, again.unchanged), (3, 3), "{:?}", again.rejections);
    assert_eq!(audit_count(&db).await, audits, "an unchanged re-import writes no audit");

    // A changed cell updates; a blank cell never clears.
    let mut rows = hazard_rows();
    rows[0][7] = C::S("2000");
    rows[1][7] = C::E;
    write_xlsx(&path, "安全隐患排查整治台账", &[], HAZARD_HEADER, &rows);
    let third = run(&db, &path, &opts(None)).await;
    assert_eq!((third.updated, third.unchanged), (1, 2), "{:?}", third.rejections);
    let mut tx = db.read().await.expect("read");
    let list = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    assert_eq!(list[0].values.get("rectify_funds"), Some(&Value::Int(200_000)));
    assert_eq!(list[1].values.get("rectify_funds"), Some(&Value::Int(1_200_000)));
});

both!(one_bad_row_rolls_back_everything_unless_partial, |db: Db| async move {
    town(&db).await;
    let dir = dir();
    let path = dir.path().join("隐患.xlsx");
    let mut rows = hazard_rows();
    rows[1][4] = C::S("水利");
    // Refused by the save itself (required field), not by cell parsing.
    let mut missing = rows[2].clone();
    missing[6] = C::E;
    missing[1] = C::S("别处");
    rows.push(missing);
    write_xlsx(&path, "Sheet1", &["标题"], HAZARD_HEADER, &rows);
    let audits = audit_count(&db).await;

    let r = run(&db, &path, &opts(Some("hazards"))).await;
    assert_eq!((r.read, r.new, r.rejected), (4, 2, 2));
    assert!(!r.committed);
    let req = &r.rejections[1];
    assert_eq!((req.row, req.column.as_str(), req.reason.as_str()), (6, "G 隐患描述", "必须填写"));
    assert_eq!(record_count(&db, "hazards").await, 0, "all or nothing");
    assert_eq!(audit_count(&db).await, audits);
    let bad = &r.rejections[0];
    assert_eq!(bad.row, 4, "title row, header row, then the second data row");
    assert_eq!(bad.column, "E 行业领域");
    assert_eq!(bad.value, "水利");
    assert!(bad.reason.contains("不是可选值"), "{}", bad.reason);
    let wb = r.error_workbook.clone().expect("error workbook");
    assert_eq!(wb, dir.path().join("隐患.错误清单.xlsx"));
    assert!(wb.exists());
    // The error list reads back with the shared reader.
    let mut src = taizhang_tabular::open(&wb).expect("open");
    let specs = ["工作表", "行号", "列", "值", "原因"].map(|h| taizhang_tabular::ColumnSpec::new(h, &[h]));
    let mut got = Vec::new();
    src.read_sheet("错误清单", &specs, &mut |row| -> Result<(), ()> {
        got.push(row);
        Ok(())
    })
    .expect("read");
    assert_eq!(got.len(), 2);

    let dry = run(&db, &path, &ImportOptions { dry_run: true, partial: true, ..opts(Some("hazards")) }).await;
    assert!(!dry.committed);
    assert_eq!(record_count(&db, "hazards").await, 0, "dry run writes nothing");

    let partial = run(&db, &path, &ImportOptions { partial: true, ..opts(Some("hazards")) }).await;
    assert!(partial.committed);
    assert_eq!((partial.new, partial.rejected), (2, 2));
    assert_eq!(record_count(&db, "hazards").await, 2);
    assert_eq!(partial.verdicts.iter().map(|v| v.1.clone()).collect::<Vec<_>>(), [Verdict::New, Verdict::Rejected, Verdict::New, Verdict::Rejected]);
});

both!(gbk_csv_with_household_subject, |db: Db| async move {
    let t = town(&db).await;
    let head = person(&db, "王五", &id_number("433024", "19700101", 11), t.pingxi.id).await;
    household(&db, "4312241102010001", &head).await;
    let dir = dir();
    let path = dir.path().join("低保.csv");
    let text = format!(
        "低保金发放花名册\r\n户编号,发放月份,金额（元）,保障人数,打卡日期,备注\r\n4312241102010001,2023年7月,\"1,250.00\",3,2023/7/10,\r\n{},2023-08,625,3,,补记\r\n",
        head.id_number
    );
    let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad);
    std::fs::write(&path, &bytes).expect("write");
    let r = run(&db, &path, &opts(Some("低保金发放台账"))).await;
    assert_eq!((r.new, r.rejected), (2, 0), "{:?}", r.rejections);
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let list = records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list");
    assert_eq!(list[0].values.get("pay_month"), Some(&Value::Text("2023-07".into())));
    assert_eq!(list[0].values.get("amount"), Some(&Value::Int(125_000)));
    assert_eq!(list[0].subject_id, list[1].subject_id, "户编号 and 户主身份证号 name the same household");
    assert_eq!(list[0].place_id, t.pingxi.id);
});

both!(id_number_stored_as_number_is_refused, |db: Db| async move {
    town(&db).await;
    let dir = dir();
    let path = dir.path().join("人员.xlsx");
    let good = id_number("431224", "19900101", 12);
    write_xlsx(
        &path,
        "人员",
        &[],
        &["姓名", "身份证号", "所属村"],
        &[
            vec![C::S("张三"), C::St(good.clone()), C::S("坪溪村")],
            vec![C::S("李四"), C::N(431224199001011234.0), C::S("坪溪村")],
        ],
    );
    let r = run(&db, &path, &opts(None)).await;
    assert_eq!(r.target, "persons");
    assert_eq!((r.new, r.rejected), (1, 1));
    assert!(!r.committed);
    let bad = &r.rejections[0];
    assert_eq!(bad.column, "B 身份证号");
    assert!(bad.reason.contains("存成了数字") && bad.reason.contains("后几位已丢失"), "{}", bad.reason);
    let mut tx = db.read().await.expect("read");
    assert_eq!(persons::count(&mut tx, &Scope::all()).await.expect("count"), 0);
    assert!(r.error_workbook.expect("workbook").exists());
});

both!(registry_import_creates_persons_and_households, |db: Db| async move {
    let t = town(&db).await;
    let dir = dir();
    let path = dir.path().join("花名册.xlsx");
    let a = id_number("431224", "19700101", 11);
    let b = id_number("431224", "19720202", 22);
    let c = id_number("431224", "19950303", 33);
    let header = ["序号", "姓名", "公民身份号码", "村", "组", "民族", "联系电话", "户编号", "与户主关系"];
    let rows = vec![
        vec![C::N(1.0), C::S("王五"), C::St(a.clone()), C::S("坪溪村"), C::S("一组"), C::S("汉族"), C::S("13800000001"), C::S("H001"), C::S("户主")],
        vec![C::N(2.0), C::S("赵六"), C::St(b.clone()), C::S("坪溪村"), C::S("一组"), C::S("苗族"), C::E, C::S("H001"), C::S("配偶")],
        vec![C::N(3.0), C::S("孙七"), C::St(c.clone()), C::S("茅坡村"), C::E, C::E, C::E, C::E, C::E],
    ];
    write_xlsx(&path, "人员信息", &["人员花名册"], &header, &rows);
    let r = run(&db, &path, &opts(None)).await;
    assert_eq!((r.new, r.rejected), (3, 0), "{:?}", r.rejections);
    assert!(r.warnings.iter().any(|w| w.contains("新建户 1 户")), "{:?}", r.warnings);
    let mut tx = db.read().await.expect("read");
    let s = Scope::all();
    let head = persons::by_id_number(&mut tx, &s, &a).await.expect("q").expect("head");
    assert_eq!(head.place_id, t.group1.id);
    assert_eq!(head.relation.as_deref(), Some("户主"));
    let h = households::by_number(&mut tx, &s, "H001").await.expect("q").expect("household");
    assert_eq!(h.head_person_id, Some(head.id));
    assert_eq!(households::members(&mut tx, &s, h.id).await.expect("members").len(), 2);
    let sun = persons::by_id_number(&mut tx, &s, &c).await.expect("q").expect("sun");
    assert_eq!((sun.place_id, sun.household_id), (t.maopo.id, None));
    drop(tx);
    let audits = audit_count(&db).await;
    let again = run(&db, &path, &opts(Some("persons"))).await;
    assert_eq!(again.unchanged, 3, "{:?}", again.rejections);
    assert_eq!(audit_count(&db).await, audits);
});

async fn add(db: &Db, key: &str, input: RecordInput) {
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, key).await.expect("def");
    records::create(&mut tx, &def, &Actor::System, &Scope::all(), input, today()).await.expect("create");
    tx.commit().await.expect("commit");
}

fn vals(pairs: &[(&str, Value)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn tx(s: &str) -> Value {
    Value::Text(s.into())
}

async fn round_trip(db: &Db, dir: &Path, key: &str, expected: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for ext in ["xlsx", "csv"] {
        let path = dir.join(format!("{key}.{ext}"));
        let n = export_ledger(db, &Scope::all(), key, &ExportQuery::default(), &path, false).await.expect("export");
        assert_eq!(n as usize, expected);
        let audits = audit_count(db).await;
        let r = run(db, &path, &opts(if ext == "csv" { Some(key) } else { None })).await;
        assert_eq!((r.read, r.unchanged), (expected, expected), "{key}.{ext}: {:?} {:?}", r.rejections, r.warnings);
        assert!(r.unknown_columns.is_empty(), "{:?}", r.unknown_columns);
        assert_eq!(audit_count(db).await, audits);
        out.push(path);
    }
    out
}

both!(export_imports_back_unchanged, |db: Db| async move {
    let t = town(&db).await;
    let head = person(&db, "王五", &id_number("433024", "19700101", 11), t.pingxi.id).await;
    let hid = household(&db, "4312241102010001", &head).await;
    let (cadre, org) = {
        let mut tx = db.read().await.expect("read");
        let c = taizhang_storage::orgs::cadre_by_name(&mut tx, "刘干部").await.expect("c")[0].id;
        let o = taizhang_storage::orgs::org_by_name_or_code(&mut tx, "坪溪液化气站").await.expect("o")[0].id;
        (c, o)
    };
    add(&db, "monitoring", RecordInput {
        subject_id: Some(hid),
        values: vals(&[
            ("category", tx("边缘易致贫户")),
            ("risk_types", Value::List(vec!["因病".into(), "因学".into()])),
            ("household_size", Value::Int(4)),
            ("identified_on", Value::Date(d("2023-03-01"))),
            ("responsible_cadre", Value::Int(cadre)),
            ("measures", Value::List(vec!["产业帮扶".into(), "小额信贷".into()])),
            ("labour_capacity", tx("弱劳动力")),
            ("per_capita_income", Value::Int(812_345)),
            ("income_stable_since", Value::Date(d("2023-04-01"))),
            ("three_guarantees_secure", Value::Bool(true)),
            ("risk_naturally_gone", Value::Bool(false)),
            ("eliminated_on", Value::Date(d("2023-11-30"))),
            ("remarks", tx("0012 号档案")),
        ]),
        ..Default::default()
    }).await;
    add(&db, "hazards", RecordInput {
        place_id: Some(t.maopo.id),
        values: vals(&[
            ("found_on", Value::Date(d("2023-05-06"))),
            ("industry", tx("燃气")),
            ("level", tx("重大")),
            ("campaign", tx("燃气安全专项整治")),
            ("organisation", Value::Int(org)),
            ("location", tx("茅坡村3组")),
            ("description", tx("软管老化")),
            ("found_by", tx("张")),
            ("rectify_person", tx("李")),
            ("rectify_deadline", Value::Date(d("2023-05-20"))),
            ("rectify_measures", tx("更换软管")),
            ("rectify_standard", tx("符合规范")),
            ("rectify_funds", Value::Int(1)),
            ("rectify_staff", tx("站内员工")),
            ("supervising_cadre", Value::Int(cadre)),
            ("rectified_on", Value::Date(d("2023-05-18"))),
            ("review_on", Value::Date(d("2023-05-25"))),
            ("reviewer", Value::Int(cadre)),
            ("review_opinion", tx("合格")),
            ("remarks", tx("12345678901234567890")),
        ]),
        ..Default::default()
    }).await;
    for (m, amount) in [("2023-07", 125_000), ("2023-08", 99)] {
        add(&db, "dibao_payments", RecordInput {
            subject_id: Some(hid),
            values: vals(&[
                ("pay_month", tx(m)),
                ("kind", tx("补发")),
                ("household_size", Value::Int(3)),
                ("amount", Value::Int(amount)),
                ("paid_on", Value::Date(d("2023-08-10"))),
                ("remarks", tx("第一批")),
            ]),
            ..Default::default()
        }).await;
    }
    add(&db, "insurance_contributions", RecordInput {
        subject_id: Some(head.id),
        concerns_year: Some(2024),
        values: vals(&[
            ("scheme", tx("城乡居民基本医疗保险")),
            ("paid_on", Value::Date(d("2023-10-08"))),
            ("amount", Value::Int(38_000)),
            ("grade", tx("380元档")),
            ("payer", tx("个人缴纳")),
            ("receipt_no", tx("0043000012345678")),
            ("remarks", tx("代收")),
        ]),
        ..Default::default()
    }).await;
    // Optional fields blank, including 发放类别, part of the natural key.
    add(&db, "dibao_payments", RecordInput {
        subject_id: Some(hid),
        values: vals(&[("pay_month", tx("2023-09")), ("amount", Value::Int(50))]),
        ..Default::default()
    }).await;
    let dir = dir();
    round_trip(&db, dir.path(), "monitoring", 1).await;
    round_trip(&db, dir.path(), "hazards", 1).await;
    round_trip(&db, dir.path(), "insurance_contributions", 1).await;
    round_trip(&db, dir.path(), "dibao_payments", 3).await;

    // Filtered by period: only August.
    let p = dir.path().join("aug.xlsx");
    let q = ExportQuery { period: Some(taizhang_domain::period::parse_period("2023-08").expect("period")), ..Default::default() };
    assert_eq!(export_ledger(&db, &Scope::all(), "dibao_payments", &q, &p, false).await.expect("export"), 1);

    // A template imports as an empty file (no rows, nothing rejected).
    let tp = dir.path().join("模板.xlsx");
    write_ledger_template(&db, "安全隐患排查整治台账", &tp).await.expect("template");
    let r = run(&db, &tp, &opts(None)).await;
    assert_eq!((r.read, r.rejected), (0, 0), "{:?}", r.rejections);
});

both!(batch_inserts_give_each_row_its_own_id_and_an_audit_entry_of_its_place, |db: Db| async move {
    let t = town(&db).await;
    let mut numbers = Vec::new();
    // Households in two villages, alternating in the file, so each batch holds both.
    for i in 0..3u32 {
        let place = if i == 1 { t.maopo.id } else { t.pingxi.id };
        let head = person(&db, "王五", &id_number("433024", "19700101", 11 + i), place).await;
        let number = format!("431224110201000{i}");
        household(&db, &number, &head).await;
        numbers.push(number);
    }
    // 1,500 rows: several multi-row statements per batch of 2,000, and a short last one.
    let mut text = String::from("户编号,发放月份,发放类别,金额（元）\n");
    let mut n = 0u32;
    for m in 0..250u32 {
        for kind in ["正常发放", "补发"] {
            for number in &numbers {
                n += 1;
                text.push_str(&format!("{number},{}-{:02},{kind},{n}\n", 1995 + m / 12, m % 12 + 1));
            }
        }
    }
    let dir = dir();
    let path = dir.path().join("低保.csv");
    std::fs::write(&path, &text).expect("write");
    let audits = audit_count(&db).await;
    let r = run(&db, &path, &opts(Some("低保金发放台账"))).await;
    assert_eq!((r.new, r.rejected), (1_500, 0), "{:?}", r.rejections);

    // Every record holds its own row's amount.
    let mut tx = db.read().await.expect("read");
    let stored: Vec<(i64, i64, i64)> = tx
        .fetch("SELECT id, place_id, amount FROM ld_dibao_payments ORDER BY id", &[])
        .await
        .expect("records")
        .iter()
        .map(|r| (r.int(0), r.int(1), r.int(2)))
        .collect();
    let mut amounts: Vec<i64> = stored.iter().map(|s| s.2).collect();
    amounts.sort_unstable();
    assert_eq!(amounts, (1..=1_500).map(|y| y * 100).collect::<Vec<_>>());

    // The audit covers every new record exactly once, by an entry of the record's own place
    // that names the file; far fewer entries than records.
    let logged = tx
        .fetch("SELECT entity_id, last_entity_id, place_id, note FROM audit WHERE entity = 'ld_dibao_payments' AND action = 'create'", &[])
        .await
        .expect("audit");
    let entries = audit_count(&db).await - audits;
    assert_eq!(usize::try_from(entries).expect("count"), logged.len());
    assert!(logged.len() < 20, "{} entries for 1,500 records", logged.len());
    let mut covered = std::collections::HashMap::new();
    for row in &logged {
        let (first, place) = (row.int(0), row.int(2));
        let last = row.opt_int(1).unwrap_or(first);
        assert_eq!(row.text(3), "导入「低保.csv」");
        for id in first..=last {
            assert!(covered.insert(id, place).is_none(), "record {id} audited twice");
        }
    }
    assert_eq!(covered.len(), stored.len());
    for (id, place, _) in &stored {
        assert_eq!(covered.get(id), Some(place), "record {id} is audited in its own place");
    }

    // A record's history finds the entry covering it, in the middle of a run too; a village's
    // scope sees its own records' entries, another village's does not.
    let middle = stored[stored.len() / 2];
    let q = taizhang_storage::audit::AuditQuery { entity: Some("ld_dibao_payments".into()), entity_id: Some(middle.0), limit: 10, ..Default::default() };
    let found = taizhang_storage::audit::list(&mut tx, &Scope::all(), &q).await.expect("list");
    assert_eq!(found.len(), 1, "{found:?}");
    let e = &found[0];
    assert!(e.entity_id.is_some_and(|f| f <= middle.0) && e.last_entity_id.unwrap_or(e.entity_id.unwrap_or(0)) >= middle.0, "{e:?}");
    assert_eq!(e.place_id, Some(middle.1));
    let (own, other) = if middle.1 == t.maopo.id { (&t.maopo, &t.pingxi) } else { (&t.pingxi, &t.maopo) };
    assert_eq!(taizhang_storage::audit::list(&mut tx, &Scope { path: own.path.clone() }, &q).await.expect("list").len(), 1);
    assert!(taizhang_storage::audit::list(&mut tx, &Scope { path: other.path.clone() }, &q).await.expect("list").is_empty());
});

both!(rows_match_records_written_by_earlier_batches_and_records_from_before, |db: Db| async move {
    let t = town(&db).await;
    // 40 households × 2 kinds: a batch of 2,000 rows spans 25 months, so batches of months
    // nobody paid before skip fetching each household's history.
    let mut numbers = Vec::new();
    for i in 0..40u32 {
        let head = person(&db, "赵六", &id_number("433024", "19700101", 100 + i), t.pingxi.id).await;
        let number = format!("43122411020100{i:02}");
        household(&db, &number, &head).await;
        numbers.push(number);
    }
    let dir = dir();
    let header = "户编号,发放月份,发放类别,金额（元）\n";
    let before = dir.path().join("去年.csv");
    std::fs::write(&before, format!("{header}{},2019-12,正常发放,1\n", numbers[0])).expect("write");
    let r = run(&db, &before, &opts(Some("低保金发放台账"))).await;
    assert_eq!(r.new, 1);

    let mut text = String::from(header);
    let mut rows = 0;
    for m in 0..60u32 {
        for kind in ["正常发放", "补发"] {
            for number in &numbers {
                rows += 1;
                text.push_str(&format!("{number},{}-{:02},{kind},{rows}\n", 2020 + m / 12, m % 12 + 1));
            }
        }
    }
    // Row 11's key (the 10th data row) again in a later batch, with another amount: refused,
    // naming row 11 (issue 15, item 5; with --partial the rest is written); and last year's
    // record, found and updated.
    text.push_str(&format!("{},2020-01,正常发放,777\n", numbers[9]));
    text.push_str(&format!("{},2019-12,正常发放,888\n", numbers[0]));
    let path = dir.path().join("低保.csv");
    std::fs::write(&path, &text).expect("write");
    let partial = ImportOptions { partial: true, ..opts(Some("低保金发放台账")) };
    let r = run(&db, &path, &partial).await;
    assert_eq!((r.read, r.new, r.updated, r.rejected), (rows + 2, rows, 1, 1), "{:?}", r.rejections);
    assert_eq!(r.rejections[0].row, u32::try_from(rows).expect("rows") + 2);
    assert!(r.rejections[0].reason.contains("与第 11 行的识别字段相同"), "{}", r.rejections[0].reason);

    let mut tx = db.read().await.expect("read");
    let sql = "SELECT d.amount FROM ld_dibao_payments d JOIN households h ON h.id = d.subject_id WHERE h.number = $1 AND d.pay_month = $2 AND d.kind = '正常发放'";
    let later = tx.fetch(sql, &[numbers[9].clone().into(), "2020-01".into()]).await.expect("amount");
    assert_eq!(later.iter().map(|r| r.int(0)).collect::<Vec<_>>(), vec![1_000], "the earlier row's record stands; the repeat wrote nothing");
    let old = tx.fetch(sql, &[numbers[0].clone().into(), "2019-12".into()]).await.expect("amount");
    assert_eq!(old.iter().map(|r| r.int(0)).collect::<Vec<_>>(), vec![88_800], "last year's record was found and updated");
    assert_eq!(tx.fetch_one("SELECT COUNT(*) FROM ld_dibao_payments", &[]).await.expect("count").int(0), i64::try_from(rows).expect("rows") + 1);
    drop(tx);

    // The same file again writes nothing: every row 未变 but the repeat, refused again.
    let r = run(&db, &path, &partial).await;
    assert_eq!((r.new, r.updated, r.unchanged, r.rejected), (0, 0, rows + 1, 1));
});
