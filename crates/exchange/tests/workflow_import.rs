//! History in its states: a workflow ledger's file with a 状态 column lands each case in its
//! state with no hand steps, each row checked against what that state requires (the fields of
//! every transition on the way, the 风险消除 guards on the day of elimination); an unknown
//! state is refused listing the states; the audit says the record was imported in its state;
//! a case already registered in an earlier state is moved on, a later one is not moved back;
//! re-import and export → re-import are 未变; the template offers the states in a dropdown.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use calamine::{open_workbook_auto, Data, Reader};
use rust_xlsxwriter::Workbook;
use taizhang_domain::role::Actor;
use taizhang_domain::value::{Record, Value};
use taizhang_exchange::{export_ledger, import_file, write_ledger_template, ExportQuery, ImportOptions, ImportReport};
use taizhang_storage::audit::{self, AuditEntry, AuditQuery};
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, settings, Db, Scope};

fn opts(ledger: &str) -> ImportOptions {
    ImportOptions { ledger: Some(ledger.into()), ..Default::default() }
}

async fn run(db: &Db, path: &Path, o: &ImportOptions) -> ImportReport {
    let r = import_file(db, &Actor::System, &Scope::all(), path, o, today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

/// A workbook of one sheet: a title row, the header, the rows, every cell text.
fn xlsx(path: &Path, sheet: &str, header: &[&str], rows: &[Vec<&str>]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    ws.write_string(0, 0, format!("{sheet}（历年）")).expect("title");
    for (c, h) in (0u16..).zip(header) {
        ws.write_string(1, c, *h).expect("header");
    }
    for (r, row) in (2u32..).zip(rows) {
        for (c, v) in (0u16..).zip(row) {
            if !v.is_empty() {
                ws.write_string(r, c, *v).expect("cell");
            }
        }
    }
    wb.save(path).expect("save");
}

fn csv(path: &Path, header: &[&str], rows: &[Vec<&str>]) {
    let mut text = header.join(",");
    text.push('\n');
    for r in rows {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    std::fs::write(path, text).expect("write");
}

const H1: &str = "4312241102010001";
const H2: &str = "4312241102010002";
const H3: &str = "4312241102010003";
const H4: &str = "4312241102010004";
const H5: &str = "4312241102010005";

/// Five households in 坪溪村, and the monitoring line for 2022 and 2023 (7,000 元).
async fn monitoring_town(db: &Db) {
    let t = town(db).await;
    for (i, h) in [H1, H2, H3, H4, H5].into_iter().enumerate() {
        let head = person(db, "户主", &id_number("433024", "19700101", 11 + 2 * i as u32), t.pingxi.id).await;
        household(db, h, &head).await;
    }
    let mut tx = db.begin().await.expect("begin");
    for year in [2022, 2023] {
        settings::set(&mut tx, &Actor::System, "monitoring_line", year, 700_000).await.expect("line");
    }
    tx.commit().await.expect("commit");
}

const MONITORING: &[&str] = &[
    "户编号",
    "监测对象类别",
    "风险类型",
    "家庭人口数",
    "识别纳入日期",
    "帮扶措施",
    "家庭劳动能力",
    "家庭人均纯收入",
    "收入稳定起始日期",
    "三保障和饮水安全已保障",
    "风险消除日期",
    "状态",
    "状态日期",
];

/// A case that meets every 风险消除 rule, eliminated on `on`, with the given 状态.
fn eliminated_row<'a>(household: &'a str, identified: &'a str, stable: &'a str, on: &'a str, state: &'a str) -> Vec<&'a str> {
    vec![household, "边缘易致贫户", "因病、因学", "4", identified, "产业帮扶、小额信贷", "有劳动力", "9000", stable, "是", on, state, ""]
}

/// Historic cases in several states; H4 without a state (the initial one, as before).
fn history() -> Vec<Vec<&'static str>> {
    vec![
        eliminated_row(H1, "2022-03-01", "2022-06-01", "2023-06-30", "风险消除"),
        vec![H2, "脱贫不稳定户", "因病", "3", "2023-03-01", "健康帮扶", "弱劳动力", "5200", "", "", "", "帮扶中", ""],
        vec![H3, "突发严重困难户", "因意外事故", "2", "2023-11-01", "", "", "", "", "", "", "识别·乡镇初审", "2023-11-20"],
        vec![H4, "边缘易致贫户", "因学", "5", "2023-12-20", "", "", "", "", "", "", "", ""],
        // The state's key is accepted too; eliminated in 2022, checked against 2022's line.
        eliminated_row(H5, "2021-05-01", "2021-09-01", "2022-12-20", "eliminated"),
    ]
}

async fn all_records(db: &Db, key: &str) -> Vec<Record> {
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, key).await.expect("def");
    records::list(&mut tx, &def, &Scope::all(), &RecordQuery::default()).await.expect("list")
}

async fn count_in(db: &Db, key: &str, state: &str) -> i64 {
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, key).await.expect("def");
    let q = RecordQuery { state: Some(state.into()), ..Default::default() };
    records::count(&mut tx, &def, &Scope::all(), &q).await.expect("count")
}

async fn entries_of(db: &Db, key: &str, id: i64) -> Vec<AuditEntry> {
    let mut tx = db.read().await.expect("read");
    let q = AuditQuery { entity: Some(format!("ld_{key}")), entity_id: Some(id), limit: 20, ..Default::default() };
    audit::list(&mut tx, &Scope::all(), &q).await.expect("audit")
}

/// Exports the ledger to .xlsx and .csv and imports each back: every row 未变, nothing written.
async fn round_trip(db: &Db, dir: &Path, key: &str, n: usize) {
    for ext in ["xlsx", "csv"] {
        let path = dir.join(format!("导出-{key}.{ext}"));
        let written = export_ledger(db, &Scope::all(), key, &ExportQuery::default(), &path, false).await.expect("export");
        assert_eq!(written as usize, n);
        let audits = audit_count(db).await;
        let r = run(db, &path, &opts(key)).await;
        assert_eq!((r.read, r.unchanged), (n, n), "{key}.{ext}: {:?}", r.rejections);
        assert!(r.unknown_columns.is_empty(), "{:?}", r.unknown_columns);
        assert_eq!(audit_count(db).await, audits);
    }
}

fn by_household<'a>(recs: &'a [Record], ids: &[(i64, &str)], number: &str) -> &'a Record {
    let id = ids.iter().find(|(_, n)| *n == number).map(|(i, _)| *i).expect("household");
    recs.iter().find(|r| r.subject_id == Some(id)).expect("record")
}

async fn household_ids(db: &Db) -> Vec<(i64, &'static str)> {
    let mut tx = db.read().await.expect("read");
    let mut out = Vec::new();
    for n in [H1, H2, H3, H4, H5] {
        let r = tx.fetch_one("SELECT id FROM households WHERE number = $1", &[taizhang_storage::Arg::Text(n.into())]).await.expect("id");
        out.push((r.int(0), n));
    }
    out
}

both!(historic_monitoring_cases_land_in_their_states, |db: Db| async move {
    monitoring_town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("监测对象.xlsx");
    xlsx(&path, "防返贫监测对象台账", MONITORING, &history());
    let r = run(&db, &path, &opts("monitoring")).await;
    assert_eq!((r.new, r.rejected, r.committed), (5, 0, true), "{:?}", r.rejections);
    assert!(r.unknown_columns.is_empty(), "{:?}", r.unknown_columns);

    let recs = all_records(&db, "monitoring").await;
    let ids = household_ids(&db).await;
    let state = |n: &str| {
        let r = by_household(&recs, &ids, n);
        (r.state.clone().unwrap_or_default(), r.state_since)
    };
    // Each in its state since the state's date: 风险消除日期, 识别纳入日期 (the date 纳入监测
    // requires), the row's 状态日期, else the day of the import.
    assert_eq!(state(H1), ("eliminated".into(), Some(d("2023-06-30"))));
    assert_eq!(state(H2), ("assisting".into(), Some(d("2023-03-01"))));
    assert_eq!(state(H3), ("identify_town".into(), Some(d("2023-11-20"))));
    assert_eq!(state(H4), ("identify_visit".into(), Some(today())));
    assert_eq!(state(H5), ("eliminated".into(), Some(d("2022-12-20"))));

    // The counts by state see them (the indicators 已消除风险监测对象户数 and 帮扶中 count so).
    assert_eq!(count_in(&db, "monitoring", "eliminated").await, 2);
    assert_eq!(count_in(&db, "monitoring", "assisting").await, 1);
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "monitoring").await.expect("def");
    let q = RecordQuery { state: Some("eliminated".into()), as_of: Some(d("2023-01-01")), ..Default::default() };
    assert_eq!(records::count(&mut tx, &def, &Scope::all(), &q).await.expect("count"), 2);
    // Deadlines run from the day the case entered its state: H3 has been in 乡镇初审 since
    // 20 November (15 days), H4 entered 入户核实 today; a closed case is never overdue.
    let overdue = records::overdue(&mut tx, &def, &Scope::all(), today()).await.expect("overdue");
    drop(tx);
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0].0.id, by_household(&recs, &ids, H3).id);
    assert!(overdue[0].1.contains("期限 2023-12-05"), "{}", overdue[0].1);

    // The audit says each was imported in its state; a row without one is created as before.
    let e = entries_of(&db, "monitoring", by_household(&recs, &ids, H1).id).await;
    assert_eq!((e.len(), e[0].action.as_str(), e[0].note.as_str()), (1, "create", "导入（状态：风险消除）"));
    let e = entries_of(&db, "monitoring", by_household(&recs, &ids, H3).id).await;
    assert_eq!(e[0].note, "导入（状态：识别·乡镇初审）");
    let e = entries_of(&db, "monitoring", by_household(&recs, &ids, H4).id).await;
    assert_eq!((e[0].action.as_str(), e[0].note.as_str()), ("create", ""));

    // The same file again: 未变, nothing written.
    let audits = audit_count(&db).await;
    let r = run(&db, &path, &opts("monitoring")).await;
    assert_eq!((r.unchanged, r.new, r.updated, r.rejected), (5, 0, 0, 0), "{:?}", r.rejections);
    assert_eq!(audit_count(&db).await, audits);

    round_trip(&db, dir.path(), "monitoring", 5).await;
});

both!(a_state_is_refused_without_what_it_requires, |db: Db| async move {
    monitoring_town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("不全.xlsx");
    let no_date = eliminated_row(H1, "2022-03-01", "2022-06-01", "", "风险消除");
    let mut no_labour = eliminated_row(H2, "2022-03-01", "2022-06-01", "2023-06-30", "风险消除");
    no_labour[6] = "无劳动力";
    let mut poor = eliminated_row(H3, "2022-03-01", "2022-06-01", "2023-06-30", "风险消除");
    poor[7] = "6500";
    let mut unknown = eliminated_row(H4, "2022-03-01", "2022-06-01", "2023-06-30", "办结");
    unknown[10] = "";
    let mut early = eliminated_row(H5, "2023-03-01", "2022-06-01", "2023-06-30", "风险消除");
    early[12] = "2024-01-05";
    xlsx(&path, "防返贫监测对象台账", MONITORING, &[no_date, no_labour, poor, unknown, early]);
    let audits = audit_count(&db).await;
    let r = run(&db, &path, &opts("monitoring")).await;
    assert_eq!((r.rejected, r.committed), (5, false), "{:?}", r.rejections);
    assert_eq!(record_count(&db, "monitoring").await, 0, "nothing is written");
    assert_eq!(audit_count(&db).await, audits);
    let at = |row: u32| -> Vec<String> { r.rejections.iter().filter(|x| x.row == row).map(|x| format!("{}：{}", x.column, x.reason)).collect() };

    // Row 3: 风险消除 without its date, named by its column.
    let x = at(3);
    assert!(x.iter().any(|m| m.contains("风险消除日期") && m.contains("状态为「风险消除」的记录必须填写")), "{x:?}");
    // Row 4: the guard's own message, on the column it is about.
    let x = at(4);
    assert!(x.iter().any(|m| m.contains("家庭劳动能力") && m.contains("无劳动力家庭不能标注风险消除")), "{x:?}");
    // Row 5: at or under the year's monitoring line.
    let x = at(5);
    assert!(x.iter().any(|m| m.contains("家庭人均纯收入") && m.contains("未超过当年监测标准")), "{x:?}");
    // Row 6: an unknown state, the states listed.
    let x = at(6);
    assert!(x.iter().any(|m| m.starts_with("L 状态") && m.contains("「办结」不是") && m.contains("识别·入户核实、") && m.contains("、风险消除")), "{x:?}");
    // Row 7: a 状态日期 ahead of today.
    let x = at(7);
    assert!(x.iter().any(|m| m.contains("状态日期") && m.contains("晚于今天")), "{x:?}");
});

both!(a_case_registered_earlier_is_moved_on_never_back, |db: Db| async move {
    monitoring_town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Last year's roster: H1 帮扶中.
    let first = dir.path().join("去年.xlsx");
    let mut row = eliminated_row(H1, "2022-03-01", "", "", "帮扶中");
    row[7] = "5000";
    xlsx(&first, "防返贫监测对象台账", MONITORING, &[row]);
    let r = run(&db, &first, &opts("monitoring")).await;
    assert_eq!((r.new, r.rejected), (1, 0), "{:?}", r.rejections);

    // This year's: too poor still to be eliminated — refused, the record stays 帮扶中.
    let poor = dir.path().join("未达标.xlsx");
    let mut row = eliminated_row(H1, "2022-03-01", "2022-06-01", "2023-06-30", "风险消除");
    row[7] = "6000";
    xlsx(&poor, "防返贫监测对象台账", MONITORING, &[row]);
    let r = run(&db, &poor, &opts("monitoring")).await;
    assert_eq!((r.rejected, r.committed), (1, false));
    assert!(r.rejections.iter().any(|x| x.column.contains("家庭人均纯收入") && x.reason.contains("监测标准")), "{:?}", r.rejections);
    assert_eq!(count_in(&db, "monitoring", "assisting").await, 1);

    // Then eliminated with all it requires: moved on, audited as a transition by import.
    let now = dir.path().join("今年.xlsx");
    xlsx(&now, "防返贫监测对象台账", MONITORING, &[eliminated_row(H1, "2022-03-01", "2022-06-01", "2023-06-30", "风险消除")]);
    let r = run(&db, &now, &opts("monitoring")).await;
    assert_eq!((r.updated, r.rejected), (1, 0), "{:?}", r.rejections);
    let rec = all_records(&db, "monitoring").await.remove(0);
    assert_eq!((rec.state.as_deref(), rec.state_since), (Some("eliminated"), Some(d("2023-06-30"))));
    assert_eq!(rec.values.get("per_capita_income"), Some(&Value::Int(900_000)));
    let e = entries_of(&db, "monitoring", rec.id).await;
    assert_eq!((e[0].action.as_str(), e[0].note.as_str()), ("transition", "导入（状态：帮扶中 → 风险消除）"));
    assert!(e[0].before.as_ref().is_some_and(|b| b["state"] == "assisting"), "{:?}", e[0].before);

    // Again: 未变. Last year's file now would move it back: refused on the 状态 column.
    let r = run(&db, &now, &opts("monitoring")).await;
    assert_eq!((r.unchanged, r.rejected), (1, 0), "{:?}", r.rejections);
    let audits = audit_count(&db).await;
    let r = run(&db, &first, &opts("monitoring")).await;
    assert_eq!((r.rejected, r.committed), (1, false));
    let x = &r.rejections[0];
    assert!(x.column.ends_with("状态") && x.reason.contains("不能改回之前的「帮扶中」"), "{x:?}");
    assert_eq!(audit_count(&db).await, audits);
    assert_eq!(count_in(&db, "monitoring", "eliminated").await, 1);

    // A different 状态日期 for the state it is in is refused, not silently kept or changed.
    let moved = dir.path().join("日期不同.xlsx");
    let mut row = eliminated_row(H1, "2022-03-01", "2022-06-01", "2023-06-30", "风险消除");
    row[12] = "2023-07-15";
    xlsx(&moved, "防返贫监测对象台账", MONITORING, &[row]);
    let r = run(&db, &moved, &opts("monitoring")).await;
    assert!(r.rejections.iter().any(|x| x.column.contains("状态日期") && x.reason.contains("2023-06-30")), "{:?}", r.rejections);
});

const DISPUTES: &[&str] = &["所属村", "受理日期", "纠纷类型", "当事人", "纠纷简要情况", "纠纷级别", "风险等级", "调处责任人", "化解日期", "调解协议", "移交单位", "移交日期", "状态"];
const HAZARDS: &[&str] = &[
    "所属村", "发现日期", "行业领域", "隐患等级", "隐患地点", "隐患描述", "整改责任人", "整改期限", "整改措施", "整改标准", "整改完成日期", "复查日期", "复查人", "状态",
];

both!(historic_disputes_and_hazards_land_in_their_states, |db: Db| async move {
    town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let disputes = dir.path().join("矛盾纠纷.csv");
    csv(&disputes, DISPUTES, &[
        vec!["坪溪村", "2023-04-02", "邻里纠纷", "张甲、李乙", "宅基地界址", "简单", "蓝", "刘干部", "2023-05-10", "书面协议", "", "", "已化解"],
        vec!["坪溪村", "2023-03-15", "山林土地", "王丙、赵丁", "林地权属", "疑难", "黄", "", "", "", "县信访局", "2023-04-01", "移交上级"],
        vec!["茅坡村", "2023-12-01", "劳资纠纷", "某工地、工人", "欠薪", "复杂", "黄", "刘干部", "", "", "", "", "调处中"],
    ]);
    let r = run(&db, &disputes, &opts("disputes")).await;
    assert_eq!((r.new, r.rejected), (3, 0), "{:?}", r.rejections);
    let recs = all_records(&db, "disputes").await;
    let states: Vec<(Option<String>, Option<chrono::NaiveDate>)> = recs.iter().map(|r| (r.state.clone(), r.state_since)).collect();
    assert_eq!(states, vec![
        (Some("resolved".into()), Some(d("2023-05-10"))),
        (Some("transferred".into()), Some(d("2023-04-01"))),
        (Some("mediating".into()), Some(today())),
    ]);
    assert_eq!(count_in(&db, "disputes", "resolved").await, 1);

    let hazards = dir.path().join("安全隐患.csv");
    csv(&hazards, HAZARDS, &[
        // 一般 hazard put right on the spot.
        vec!["坪溪村", "2023-05-01", "燃气", "一般", "坪溪村液化气站", "软管老化", "", "", "", "", "2023-05-01", "", "", "已整改"],
        // 重大 hazard through 五定, put right and reviewed.
        vec!["坪溪村", "2023-06-01", "建筑施工", "重大", "茅坡小学工地", "脚手架无剪刀撑", "张三", "2023-07-01", "加设剪刀撑", "符合规范", "2023-06-25", "2023-07-05", "刘干部", "复查销号"],
        // 重大 hazard still being put right, past its 整改期限.
        vec!["茅坡村", "2023-10-01", "地质灾害", "重大", "茅坡三组后山", "裂缝", "李四", "2023-12-01", "削坡", "稳定", "", "", "", "整改中"],
    ]);
    let r = run(&db, &hazards, &opts("hazards")).await;
    assert_eq!((r.new, r.rejected), (3, 0), "{:?}", r.rejections);
    let recs = all_records(&db, "hazards").await;
    let states: Vec<Option<String>> = recs.iter().map(|r| r.state.clone()).collect();
    assert_eq!(states, vec![Some("rectified".into()), Some("closed".into()), Some("rectifying".into())]);
    assert_eq!(recs[1].state_since, Some(d("2023-07-05")), "复查销号 dated by 复查日期");
    let mut tx = db.read().await.expect("read");
    let def = ledgers::get(&mut tx, "hazards").await.expect("def");
    let overdue = records::overdue(&mut tx, &def, &Scope::all(), today()).await.expect("overdue");
    drop(tx);
    assert_eq!(overdue.iter().map(|(r, _)| r.id).collect::<Vec<_>>(), vec![recs[2].id], "{overdue:?}");
    let e = entries_of(&db, "hazards", recs[1].id).await;
    assert_eq!(e[0].note, "导入（状态：复查销号）");

    // Refused: 已化解 without its 调解协议; a 重大 hazard 已整改 without 下达整改.
    let bad = dir.path().join("纠纷不全.csv");
    csv(&bad, DISPUTES, &[vec!["坪溪村", "2023-08-02", "婚姻家庭", "周戊、吴己", "离婚财产", "简单", "蓝", "刘干部", "2023-08-20", "", "", "", "已化解"]]);
    let r = run(&db, &bad, &opts("disputes")).await;
    assert_eq!((r.rejected, r.committed), (1, false));
    assert!(r.rejections.iter().any(|x| x.column.contains("调解协议") && x.reason.contains("状态为「已化解」的记录必须填写")), "{:?}", r.rejections);
    let bad = dir.path().join("隐患不全.csv");
    csv(&bad, HAZARDS, &[vec!["坪溪村", "2023-09-01", "消防", "重大", "镇农贸市场", "通道堵塞", "", "2023-09-30", "", "", "2023-09-02", "", "", "已整改"]]);
    let r = run(&db, &bad, &opts("hazards")).await;
    assert_eq!((r.rejected, r.committed), (1, false));
    assert!(r.rejections.iter().any(|x| x.column.contains("隐患等级") && x.reason.contains("重大隐患须下达整改")), "{:?}", r.rejections);
    assert_eq!((record_count(&db, "disputes").await, record_count(&db, "hazards").await), (3, 3));

    // Re-import 未变; export → re-import 未变.
    for (path, key) in [(&disputes, "disputes"), (&hazards, "hazards")] {
        let r = run(&db, path, &opts(key)).await;
        assert_eq!((r.unchanged, r.rejected), (3, 0), "{key}: {:?}", r.rejections);
        round_trip(&db, dir.path(), key, 3).await;
    }
});

/// The cells of a sheet, as text.
fn sheet_text(path: &PathBuf, sheet: &str) -> Vec<Vec<String>> {
    let mut wb = open_workbook_auto(path).expect("open");
    let range = wb.worksheet_range(sheet).expect("sheet");
    range.rows().map(|r| r.iter().map(|c| match c { Data::Empty => String::new(), other => other.to_string() }).collect()).collect()
}

both!(the_template_offers_the_states, |db: Db| async move {
    town(&db).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("监测模板.xlsx");
    write_ledger_template(&db, "monitoring", &path).await.expect("template");
    let main = sheet_text(&path, "防返贫监测对象台账");
    let header = &main[1];
    let at = header.iter().position(|h| h == "状态").expect("状态 column");
    assert_eq!(header.get(at + 1).map(String::as_str), Some("状态日期"));
    assert!(main[2][at].contains("不填为「识别·入户核实」"), "{}", main[2][at]);
    // The dropdown's list: the states in order.
    let lists = sheet_text(&path, "选项");
    let want = ["识别·入户核实", "识别·民主评议公示", "识别·乡镇初审", "识别·县级审定", "帮扶中", "消除·入户核查", "消除·民主评议公示", "消除·乡镇审核", "消除·县级审定", "风险消除"];
    let found = (0..lists.first().map_or(0, Vec::len)).any(|c| {
        let col: Vec<&str> = lists.iter().filter_map(|r| r.get(c)).map(String::as_str).filter(|s| !s.is_empty()).collect();
        col == want
    });
    assert!(found, "{lists:?}");
    // A ledger without a workflow has no 状态 column.
    let p = dir.path().join("低保模板.xlsx");
    write_ledger_template(&db, "dibao_payments", &p).await.expect("template");
    let header = &sheet_text(&p, "低保金发放台账")[1];
    assert!(!header.iter().any(|h| h == "状态"), "{header:?}");
    // The template imports as an empty file.
    let r = run(&db, &path, &opts("monitoring")).await;
    assert_eq!((r.read, r.rejected), (0, 0), "{:?}", r.rejections);
});
