//! The 花名册 through a year: a roster imported, then the next one, where people have died,
//! moved out and had their names corrected, updates the registry (statuses recorded with
//! their dates, corrections audited with the file named), and importing it again changes
//! nothing. Raw rosters with everyday relation words import with the standard's relations.

mod common;
use common::*;

use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use taizhang_domain::registry::{Person, PersonStatus};
use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions, ImportReport, Verdict};
use taizhang_storage::audit::{self, AuditEntry, AuditQuery};
use taizhang_storage::{households, persons, Db, Scope};

/// A cell of a fixture row.
#[derive(Clone)]
enum C {
    S(String),
    D(u16, u8, u8),
    E,
}

fn s(t: &str) -> C {
    C::S(t.to_string())
}

fn write_xlsx(path: &Path, sheet: &str, header: &[&str], rows: &[Vec<C>]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).expect("name");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string(0, 0, "2023年坪溪村人员花名册").expect("title");
    for (c, h) in (0u16..).zip(header) {
        ws.write_string(1, c, *h).expect("header");
    }
    for (r, row) in (2u32..).zip(rows) {
        for (c, cell) in (0u16..).zip(row) {
            match cell {
                C::S(t) => {
                    ws.write_string(r, c, t).expect("text");
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

fn persons_opts() -> ImportOptions {
    ImportOptions { ledger: Some("persons".into()), ..Default::default() }
}

async fn run(db: &Db, path: &Path) -> ImportReport {
    let r = import_file(db, &Actor::System, &Scope::all(), path, &persons_opts(), today()).await.expect("import");
    assert!(r.balanced(), "{}", r.summary());
    r
}

async fn by_id(db: &Db, id: &str) -> Person {
    let mut tx = db.read().await.expect("read");
    persons::by_id_number(&mut tx, &Scope::all(), id).await.expect("query").expect("person")
}

async fn entries(db: &Db, person: &Person) -> Vec<AuditEntry> {
    let mut tx = db.read().await.expect("read");
    let q = AuditQuery { entity: Some("persons".into()), entity_id: Some(person.id), ..Default::default() };
    audit::list(&mut tx, &Scope::all(), &q).await.expect("audit")
}

/// The six people of two households in 坪溪村一组 (sequence numbers: odd male, even female).
struct Family {
    wang: String,
    li: String,
    ming: String,
    zhang: String,
    liu: String,
    lili: String,
}

fn family() -> Family {
    Family {
        wang: id_number("433024", "19500101", 11),
        li: id_number("433024", "19520202", 22),
        ming: id_number("433024", "19780303", 33),
        zhang: id_number("433024", "19650404", 45),
        liu: id_number("433024", "19680505", 56),
        lili: id_number("431224", "19900606", 68),
    }
}

const HEADER: &[&str] = &[
    "序号", "户编号", "姓名", "性别", "公民身份号码", "与户主关系", "民族", "联系电话", "所属村", "组", "人员状态", "死亡日期", "迁出日期",
    "迁出地", "变更原因",
];

/// One roster row in the order of `HEADER`.
#[allow(clippy::too_many_arguments)]
fn row(seq: u32, hh: &str, name: &str, sex: &str, id: &str, rel: &str, phone: &str, status: &str, died: C, out: C, to: &str, why: &str) -> Vec<C> {
    let text = |t: &str| if t.is_empty() { C::E } else { s(t) };
    vec![
        s(&seq.to_string()),
        s(hh),
        s(name),
        s(sex),
        s(id),
        s(rel),
        s("汉族"),
        text(phone),
        s("坪溪村"),
        s("一组"),
        text(status),
        died,
        out,
        text(to),
        text(why),
    ]
}

fn first_roster(f: &Family) -> Vec<Vec<C>> {
    vec![
        row(1, "H001", "王大山", "男", &f.wang, "户主", "13800000001", "正常", C::E, C::E, "", ""),
        row(2, "H001", "李秀英", "女", &f.li, "配偶", "", "正常", C::E, C::E, "", ""),
        row(3, "H001", "王小明", "男", &f.ming, "之子", "13800000003", "正常", C::E, C::E, "", ""),
        row(4, "H002", "张建国", "男", &f.zhang, "户主", "13800000004", "", C::E, C::E, "", ""),
        row(5, "H002", "刘芳", "女", &f.liu, "妻", "", "", C::E, C::E, "", ""),
        row(6, "H002", "张丽", "女", &f.lili, "女儿", "", "", C::E, C::E, "", ""),
    ]
}

fn second_roster(f: &Family) -> Vec<Vec<C>> {
    vec![
        // Died: the date as an Excel date, the row's own reason.
        row(1, "H001", "王大山", "男", &f.wang, "户主", "13800000001", "已故", C::D(2023, 5, 10), C::E, "", "病故"),
        // Name corrected (户口簿 spelling).
        row(2, "H001", "李秀莹", "女", &f.li, "配偶", "", "在世", C::E, C::E, "", ""),
        row(3, "H001", "王小明", "男", &f.ming, "子", "13800000003", "在世", C::E, C::E, "", ""),
        // Phone changed.
        row(4, "H002", "张建国", "男", &f.zhang, "户主", "13900000004", "正常", C::E, C::E, "", ""),
        // 之妻 is the standard's 妻, as stored: nothing to change.
        row(5, "H002", "刘芳", "女", &f.liu, "之妻", "", "", C::E, C::E, "", ""),
        // Moved out: the date written as text, where to.
        row(6, "H002", "张丽", "女", &f.lili, "女", "", "迁出", C::E, s("2023年8月1日"), "长沙市岳麓区", "婚迁"),
    ]
}

both!(second_roster_records_deaths_moves_and_corrections, |db: Db| async move {
    let t = town(&db).await;
    let f = family();
    let dir = tempfile::tempdir().expect("dir");
    let first = dir.path().join("花名册2023上.xlsx");
    write_xlsx(&first, "花名册", HEADER, &first_roster(&f));
    let r = run(&db, &first).await;
    assert_eq!((r.read, r.new, r.rejected), (6, 6, 0), "{:?}", r.rejections);
    assert!(r.committed);
    assert!(r.unknown_columns.is_empty(), "every column of the roster is understood: {:?}", r.unknown_columns);
    assert!(r.warnings.iter().any(|w| w.contains("新建户 2 户")), "{:?}", r.warnings);
    let wang = by_id(&db, &f.wang).await;
    assert_eq!((wang.status, wang.place_id, wang.relation.as_deref()), (PersonStatus::Alive, t.group1.id, Some("户主")));
    assert_eq!(by_id(&db, &f.ming).await.relation.as_deref(), Some("子"), "之子 is stored as the standard's 子");
    assert_eq!(by_id(&db, &f.lili).await.relation.as_deref(), Some("女"));

    let second = dir.path().join("花名册2023下.xlsx");
    write_xlsx(&second, "花名册", HEADER, &second_roster(&f));
    let r = run(&db, &second).await;
    assert_eq!((r.read, r.updated, r.unchanged, r.new, r.rejected), (6, 4, 2, 0, 0), "{:?}", r.rejections);
    assert!(r.committed);
    let verdicts: Vec<Verdict> = r.verdicts.iter().map(|(_, v)| v.clone()).collect();
    assert_eq!(
        verdicts,
        [Verdict::Updated, Verdict::Updated, Verdict::Unchanged, Verdict::Updated, Verdict::Unchanged, Verdict::Updated],
        "the title row and the header come first: rows 3 to 8"
    );
    assert_eq!(r.verdicts.first().map(|(row, _)| row), Some(3));
    let source = "花名册导入「花名册2023下.xlsx」工作表「花名册」";

    // The death, with its date, the row's reason and the file.
    let wang = by_id(&db, &f.wang).await;
    assert_eq!((wang.status, wang.status_date), (PersonStatus::Dead, Some(d("2023-05-10"))));
    assert_eq!(wang.status_reason, format!("病故（{source}）"));
    assert_eq!(wang.household_id, by_id(&db, &f.li).await.household_id, "the dead keep their household until a clerk records the leave");
    let death = entries(&db, &wang).await.into_iter().find(|e| e.action == "status").expect("status entry");
    assert_eq!(death.before.as_ref().and_then(|b| b["status"].as_str()), Some("alive"));
    assert_eq!(death.after.as_ref().and_then(|a| a["status"].as_str()), Some("dead"));
    assert_eq!(death.after.as_ref().and_then(|a| a["status_date"].as_str()), Some("2023-05-10"));
    assert!(death.note.contains("死亡") && death.note.contains(source), "{}", death.note);

    // The move out, with the place it went to.
    let lili = by_id(&db, &f.lili).await;
    assert_eq!((lili.status, lili.status_date), (PersonStatus::MovedOut, Some(d("2023-08-01"))));
    assert_eq!(lili.status_place, "长沙市岳麓区");
    let moved = entries(&db, &lili).await.into_iter().find(|e| e.action == "status").expect("status entry");
    assert!(moved.note.contains("长沙市岳麓区") && moved.note.contains(source), "{}", moved.note);

    // The name correction, audited with before, after and the file as its reason.
    let li = by_id(&db, &f.li).await;
    assert_eq!((li.name.as_str(), li.status), ("李秀莹", PersonStatus::Alive));
    let fix = entries(&db, &li).await.into_iter().find(|e| e.action == "update" && e.note.contains("信息更正")).expect("correction entry");
    assert_eq!(fix.before.as_ref().and_then(|b| b["name"].as_str()), Some("李秀英"));
    assert_eq!(fix.after.as_ref().and_then(|a| a["name"].as_str()), Some("李秀莹"));
    assert!(fix.note.contains(source), "{}", fix.note);

    // The phone, likewise.
    let zhang = by_id(&db, &f.zhang).await;
    assert_eq!(zhang.phone, "13900000004");
    let fix = entries(&db, &zhang).await.into_iter().find(|e| e.action == "update" && e.note.contains("信息更正")).expect("correction entry");
    assert_eq!(fix.before.as_ref().and_then(|b| b["phone"].as_str()), Some("13800000004"));
    assert_eq!(fix.after.as_ref().and_then(|a| a["phone"].as_str()), Some("13900000004"));
    assert!(fix.note.contains(source), "{}", fix.note);
    assert_eq!(by_id(&db, &f.liu).await.relation.as_deref(), Some("妻"));

    // The same file again: everything is as it says.
    let audits = audit_count(&db).await;
    let again = run(&db, &second).await;
    assert_eq!((again.read, again.unchanged), (6, 6), "{:?}", again.rejections);
    assert_eq!(audit_count(&db).await, audits, "an unchanged re-import writes no audit");
    // And the first roster, which still says 正常 for the dead man, is refused for him.
    let stale = run(&db, &first).await;
    assert!(!stale.committed);
    let refusal = stale.rejections.iter().find(|x| x.row == 3).expect("王大山's row refused");
    assert!(refusal.column.contains("变更原因") && refusal.reason.contains("已登记死亡"), "{refusal:?}");
    assert_eq!(audit_count(&db).await, audits);
});

both!(refused_status_rows_name_their_column_and_nothing_is_written, |db: Db| async move {
    town(&db).await;
    let f = family();
    let dir = tempfile::tempdir().expect("dir");
    let first = dir.path().join("花名册.xlsx");
    write_xlsx(&first, "花名册", HEADER, &first_roster(&f));
    assert_eq!(run(&db, &first).await.new, 6);
    let audits = audit_count(&db).await;

    let mut moved_village = row(5, "H002", "刘芳", "女", &f.liu, "妻", "", "", C::E, C::E, "", "");
    moved_village[8] = s("茅坡村");
    moved_village[9] = C::E;
    let rows = vec![
        // 死亡 without its date.
        row(1, "H001", "王大山", "男", &f.wang, "户主", "", "死亡", C::E, C::E, "", ""),
        // A good row: its phone would be corrected, but the file is all or nothing.
        row(3, "H001", "王小明", "男", &f.ming, "子", "13700000003", "", C::E, C::E, "", ""),
        // A status no one can read.
        row(4, "H002", "张建国", "男", &f.zhang, "户主", "", "去了外地", C::E, C::E, "", ""),
        // Another village: a move, which a roster does not make.
        moved_village,
        // 迁出 without where to.
        row(6, "H002", "张丽", "女", &f.lili, "女", "", "迁出", C::E, C::D(2023, 8, 1), "", ""),
    ];
    let path = dir.path().join("变动.xlsx");
    write_xlsx(&path, "花名册", HEADER, &rows);
    let r = run(&db, &path).await;
    assert_eq!((r.read, r.updated, r.rejected), (5, 1, 4), "{:?}", r.rejections);
    assert!(!r.committed, "all or nothing by default");
    let at = |row: u32| r.rejections.iter().find(|x| x.row == row).unwrap_or_else(|| panic!("row {row} refused: {:?}", r.rejections));
    let dead = at(3);
    assert_eq!(dead.column, "L 死亡日期");
    assert!(dead.reason.contains("必须填写死亡日期"), "{}", dead.reason);
    let status = at(5);
    assert_eq!((status.column.as_str(), status.value.as_str()), ("K 人员状态", "去了外地"));
    assert!(status.reason.contains("不是可识别的人员状态"), "{}", status.reason);
    let place = at(6);
    assert_eq!(place.column, "I 所属村");
    assert!(place.reason.contains("坪溪村/一组") && place.reason.contains("整户迁移"), "{}", place.reason);
    let out = at(7);
    assert_eq!(out.column, "N 迁出地");
    assert!(out.reason.contains("必须填写迁出地"), "{}", out.reason);
    assert!(r.error_workbook.as_ref().is_some_and(|p| p.exists()));

    assert_eq!(audit_count(&db).await, audits, "nothing written, no audit");
    let wang = by_id(&db, &f.wang).await;
    assert_eq!((wang.status, wang.status_date), (PersonStatus::Alive, None));
    assert_eq!(by_id(&db, &f.ming).await.phone, "13800000003");
    assert_eq!(by_id(&db, &f.lili).await.status, PersonStatus::Alive);
});

both!(raw_roster_with_everyday_relations_imports_by_sex, |db: Db| async move {
    let t = town(&db).await;
    let dir = tempfile::tempdir().expect("dir");
    // Odd sequence numbers are men, even ones women.
    let head = id_number("433024", "19600101", 101);
    let head2 = id_number("433024", "19700101", 202);
    let people: Vec<(&str, String, &str, &str, &str, &str, &str)> = vec![
        // (户号, 公民身份号码, 户主身份证号码, 姓名, 家庭关系, 状态, 死亡日期) → expected relation below
        ("H101", head.clone(), &head, "刘老大", "本人", "", ""),
        ("H101", id_number("433024", "19620202", 102), &head, "陈桂花", "配偶", "", ""),
        ("H101", id_number("433024", "19850303", 103), &head, "刘一", "子女", "", ""),
        ("H101", id_number("433024", "19870404", 104), &head, "刘二", "子女", "", ""),
        ("H101", id_number("433024", "19350505", 105), &head, "刘父", "父母", "在世", ""),
        ("H101", id_number("433024", "19380606", 106), &head, "刘母", "父母", "", ""),
        ("H101", id_number("431224", "20100707", 107), &head, "刘小宝", "孙子女", "", ""),
        ("H101", id_number("431224", "20120808", 108), &head, "刘小妹", "孙子女", "", ""),
        ("H101", id_number("431224", "20150909", 109), &head, "周小外", "外孙", "", ""),
        // A household whose members name it only by the head's number.
        ("H102", head2.clone(), &head2, "杨秀兰", "户主", "", ""),
        ("", id_number("431224", "19950101", 111), &head2, "杨明", "子女", "", ""),
        // Someone already dead when first registered: created, then the death recorded.
        ("", id_number("433024", "19400101", 113), &head2, "杨父", "父母", "已故", "2023/3/15"),
    ];
    let expected = ["户主", "配偶", "子", "女", "父亲", "母亲", "孙子", "孙女", "外孙子", "户主", "子", "父亲"];
    let mut text = String::from("序号,户号,户主身份证号码,姓名,身份证号码,家庭关系,村,组,状态,死亡日期\n");
    for (i, (hh, id, head_id, name, rel, status, died)) in people.iter().enumerate() {
        text.push_str(&format!("{},{hh},{head_id},{name},{id},{rel},坪溪村,一组,{status},{died}\n", i + 1));
    }
    let path = dir.path().join("原始花名册.csv");
    std::fs::write(&path, text).expect("write");
    let r = run(&db, &path).await;
    assert_eq!((r.read, r.new, r.rejected), (12, 12, 0), "{:?}", r.rejections);
    assert!(r.committed);
    assert!(r.unknown_columns.is_empty(), "户主身份证号码 is understood, and not as the person's number: {:?}", r.unknown_columns);

    let mut tx = db.read().await.expect("read");
    let scope = Scope::all();
    for ((_, id, _, name, written, _, _), want) in people.iter().zip(expected) {
        let p = persons::by_id_number(&mut tx, &scope, id).await.expect("query").expect("person");
        assert_eq!(p.relation.as_deref(), Some(want), "{name}: 「{written}」");
        assert_eq!(p.place_id, t.group1.id);
    }
    let h101 = households::by_number(&mut tx, &scope, "H101").await.expect("query").expect("H101");
    let h102 = households::by_number(&mut tx, &scope, "H102").await.expect("query").expect("H102");
    assert_eq!(households::members(&mut tx, &scope, h101.id).await.expect("members").len(), 9);
    assert_eq!(households::members(&mut tx, &scope, h102.id).await.expect("members").len(), 3);
    let first = persons::by_id_number(&mut tx, &scope, &head).await.expect("query").expect("head");
    assert_eq!(h101.head_person_id, Some(first.id));
    let dead = persons::by_id_number(&mut tx, &scope, &people[11].1).await.expect("query").expect("dead");
    assert_eq!((dead.status, dead.status_date), (PersonStatus::Dead, Some(d("2023-03-15"))));
    assert_eq!(dead.status_reason, "花名册导入「原始花名册.csv」");
    drop(tx);

    let audits = audit_count(&db).await;
    let again = run(&db, &path).await;
    assert_eq!((again.read, again.unchanged), (12, 12), "{:?}", again.rejections);
    assert_eq!(audit_count(&db).await, audits);
});
