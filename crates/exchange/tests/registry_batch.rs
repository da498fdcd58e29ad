//! The 花名册 import's batch path gives what the per-row path gives: the same verdicts,
//! rejections and warnings, the same persons (place, household, relation, status, version)
//! and households (place, head, version), on a roster of every kind of row across a batch
//! boundary; and a re-import is 未变 throughout. Every person registered in bulk is covered by
//! an audit entry. The per-row path is chosen by `TAIZHANG_REGISTRY_ROW_BY_ROW`, a process-wide
//! switch: this file holds one test, which runs both engines one after the other.

use std::path::Path;

use rust_xlsxwriter::Workbook;
use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions, ImportReport};
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::fixtures::{household, id_number, person, today, town};
use taizhang_storage::testkit::TestDb;
use taizhang_domain::place::PlaceLevel;
use taizhang_storage::places::{self, NewPlace};
use taizhang_storage::{Db, Engine, Scope};

const HEADER: &[&str] = &["序号", "户编号", "姓名", "性别", "公民身份号码", "与户主关系", "民族", "联系电话", "所属村", "组", "户主身份证号码", "人员状态", "死亡日期"];

/// (户编号, 姓名, 公民身份号码, 与户主关系, 联系电话, 所属村, 组, 户主身份证号码, 人员状态, 死亡日期)
type Row = [String; 10];

#[allow(clippy::too_many_arguments)]
fn row(hh: &str, name: &str, id: &str, rel: &str, phone: &str, village: &str, group: &str, head: &str, status: &str, died: &str) -> Row {
    [hh, name, id, rel, phone, village, group, head, status, died].map(str::to_string)
}

fn write(path: &Path, rows: &[Row]) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("花名册").expect("name");
    for (c, h) in (0u16..).zip(HEADER) {
        ws.write_string(0, c, *h).expect("header");
    }
    for (r, cells) in (1u32..).zip(rows) {
        ws.write_number(r, 0, f64::from(r)).expect("seq");
        let [hh, name, id, rel, phone, village, group, head, status, died] = cells;
        for (c, v) in [(1, hh), (2, name), (4, id), (5, rel), (7, phone), (8, village), (9, group), (10, head), (11, status), (12, died)] {
            if !v.is_empty() {
                ws.write_string(r, c, v).expect("cell");
            }
        }
        ws.write_string(r, 6, "汉族").expect("ethnicity");
    }
    wb.save(path).expect("save");
}

/// A roster of every kind of row the import meets, 2,300 rows long (two batches of 2,000).
fn roster(registered: &str, in_fixture_household: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let village = |i: usize| if i.is_multiple_of(3) { "茅坡村" } else { "坪溪村" };
    // 坪溪村 has a 一组; 茅坡村 has none, so its households written with one are refused.
    let group = |i: usize| if i.is_multiple_of(2) && (!i.is_multiple_of(3) || i.is_multiple_of(50)) { "一组" } else { "" };
    // Households of four, the head first; one in twenty with the head last (the household
    // is created by a member, its head set later); a household straddling the batch boundary.
    for h in 0..560usize {
        let number = format!("B{h:05}");
        let ids: Vec<String> = (0..4).map(|k| id_number("431224", &format!("19{:02}0{}{:02}", 40 + h % 50, 1 + k, 1 + h % 28), (h * 4 + k) as u32 % 1000)).collect();
        let mut members = vec![
            row(&number, &format!("户主{h}"), &ids[0], "户主", &format!("138{h:08}"), village(h), group(h), "", "正常", ""),
            row(&number, &format!("配偶{h}"), &ids[1], "配偶", "", village(h), group(h), &ids[0], "", ""),
            row(&number, &format!("子{h}"), &ids[2], "子女", "", village(h), group(h), "", "在世", ""),
            row(&number, &format!("孙{h}"), &ids[3], "孙子女", "", village(h), group(h), "", "", ""),
        ];
        if h % 20 == 7 {
            members.rotate_left(1);
        }
        rows.extend(members);
    }
    let odd = |n: u32| id_number("431224", "19800808", n);
    rows.extend([
        // A registered person given a 民族: a correction, the per-row way.
        row("", "张建国", registered, "", "", "坪溪村", "", "", "", ""),
        // A registered person with a new phone: a correction, the per-row way.
        row("", "张建国", registered, "", "13912345678", "", "", "", "", ""),
        // A new member of a household registered before the import (which has its head).
        row("F0001", "新成员", &odd(11), "之子", "", "坪溪村", "", in_fixture_household, "", ""),
        // A second 户主 for a household that has one: refused.
        row("B00001", "二户主", &odd(13), "户主", "", "坪溪村", "", "", "", ""),
        // A head's ID number that is not the household's head: refused.
        row("B00002", "错户主", &odd(15), "子", "", "坪溪村", "", &odd(17), "", ""),
        // Dead on arrival: registered, then the death recorded.
        row("B00003", "已故者", &odd(19), "父亲", "", "坪溪村", "", "", "死亡", "2023-03-01"),
        // The same person twice.
        row("B00004", "重复者", &odd(21), "子", "", "茅坡村", "", "", "", ""),
        row("B00004", "重复者", &odd(21), "子", "", "茅坡村", "", "", "", ""),
        // A 15-digit number, converted with a note.
        row("", "老证", "431224500101011", "", "", "茅坡村", "", "", "", ""),
        // No village for someone new: refused.
        row("", "无村", &odd(23), "", "", "", "", "", "", ""),
        // An ID number that is not one: refused when read.
        row("", "错号", "431224198008081234", "", "", "坪溪村", "", "", "", ""),
        // A relation no one can read: refused.
        row("B00005", "怪关系", &odd(25), "邻居的狗", "", "茅坡村", "", "", "", ""),
        // A household named by its head's ID number only.
        row("", "随户主", &odd(27), "女", "", "坪溪村", "一组", &id_number("431224", "19400101", 0), "", ""),
        // Someone without a household.
        row("", "单身", &odd(29), "", "", "坪溪村", "", "", "", ""),
        // Someone registered by an earlier row, in another household: refused.
        row("B00006", "配偶1", &id_number("431224", "19410202", 5), "配偶", "", "坪溪村", "", "", "", ""),
    ]);
    rows
}

async fn import(db: &Db, path: &Path, row_by_row: bool) -> ImportReport {
    if row_by_row {
        std::env::set_var("TAIZHANG_REGISTRY_ROW_BY_ROW", "1");
    } else {
        std::env::remove_var("TAIZHANG_REGISTRY_ROW_BY_ROW");
    }
    let opts = ImportOptions { ledger: Some("persons".into()), partial: true, ..Default::default() };
    let r = import_file(db, &Actor::System, &Scope::all(), path, &opts, today()).await.expect("import");
    std::env::remove_var("TAIZHANG_REGISTRY_ROW_BY_ROW");
    assert!(r.balanced(), "{}", r.summary());
    r
}

/// The registry as text, ids left out (the two paths number rows differently).
async fn registry(db: &Db) -> Vec<String> {
    let mut tx = db.read().await.expect("read");
    let persons = tx
        .fetch(
            "SELECT p.id_number, p.name, p.sex, p.birth_date, p.ethnicity, p.phone, p.status, p.status_date, p.place_id, h.number, p.relation, p.row_version, p.status_reason
             FROM persons p LEFT JOIN households h ON h.id = p.household_id ORDER BY p.id_number",
            &[],
        )
        .await
        .expect("persons");
    let households = tx
        .fetch(
            "SELECT h.number, h.place_id, hp.id_number, h.row_version FROM households h LEFT JOIN persons hp ON hp.id = h.head_person_id ORDER BY h.number",
            &[],
        )
        .await
        .expect("households");
    let text = |r: &taizhang_storage::Row, n: usize| (0..n).map(|i| format!("{:?}", r.cell(i))).collect::<Vec<_>>().join("|");
    persons.iter().map(|r| text(r, 13)).chain(households.iter().map(|r| text(r, 4))).collect()
}

fn outcome(r: &ImportReport) -> (Vec<(u32, String)>, Vec<String>, Vec<String>) {
    (
        r.verdicts.iter().map(|(n, v)| (n, format!("{v:?}"))).collect(),
        r.rejections.iter().map(|x| format!("{} {} {} {}", x.row, x.column, x.value, x.reason)).collect(),
        r.warnings.clone(),
    )
}

async fn case(engine: Engine) {
    let Some(batch) = TestDb::new(engine).await.expect("db") else { return };
    let per_row = TestDb::new(engine).await.expect("db").expect("a second database");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("花名册.xlsx");
    let mut paths = None;
    for t in [&batch, &per_row] {
        let town = town(&t.db).await;
        let mut tx = t.db.begin().await.expect("begin");
        let group = NewPlace { parent_id: Some(town.pingxi.id), level: PlaceLevel::Group, code: None, name: "一组", attributes: vec![] };
        places::create(&mut tx, &Actor::System, group).await.expect("group");
        tx.commit().await.expect("commit");
        let registered = id_number("431224", "19601010", 15);
        person(&t.db, "张建国", &registered, town.pingxi.id).await;
        let head = person(&t.db, "老户主", &id_number("431224", "19500505", 31), town.pingxi.id).await;
        household(&t.db, "F0001", &head).await;
        paths.get_or_insert_with(|| {
            write(&path, &roster(&registered, &head.id_number));
        });
    }
    let a = import(&batch.db, &path, false).await;
    let b = import(&per_row.db, &path, true).await;
    assert!(a.new > 2_000 && a.updated >= 2 && a.unchanged >= 1 && a.rejected >= 6, "{}", a.summary());
    assert_eq!(outcome(&a), outcome(&b), "batch and per-row verdicts, rejections and warnings");
    assert_eq!(registry(&batch.db).await, registry(&per_row.db).await, "batch and per-row registries");
    // The batch way ran: persons registered together share an entry per run of ids.
    let runs = |db: Db| async move {
        let mut tx = db.read().await.expect("read");
        tx.fetch_one("SELECT COUNT(*) FROM audit WHERE entity = 'persons' AND last_entity_id IS NOT NULL", &[]).await.expect("count").int(0)
    };
    assert!(runs(batch.db.clone()).await > 0);
    assert_eq!(runs(per_row.db.clone()).await, 0);
    // Every person registered in bulk is covered by an audit entry naming the file.
    let mut tx = batch.db.read().await.expect("read");
    let some: Vec<i64> = tx.fetch("SELECT id FROM persons ORDER BY id", &[]).await.expect("ids").iter().map(|r| r.int(0)).step_by(97).collect();
    for id in some {
        let q = AuditQuery { entity: Some("persons".into()), entity_id: Some(id), ..Default::default() };
        let entries = audit::list(&mut tx, &Scope::all(), &q).await.expect("audit");
        assert!(entries.iter().any(|e| e.action == "create"), "person {id} has a creation entry: {entries:?}");
    }
    drop(tx);
    // Again, the batch way on both: nothing to do where the first import succeeded.
    let a2 = import(&batch.db, &path, false).await;
    let b2 = import(&per_row.db, &path, false).await;
    assert_eq!(outcome(&a2), outcome(&b2));
    assert_eq!(a2.new, 0, "{}", a2.summary());
    assert_eq!(a2.unchanged + a2.rejected, a2.read, "{}", a2.summary());
    assert_eq!(registry(&batch.db).await, registry(&per_row.db).await);
}

#[tokio::test]
async fn batch_and_per_row_agree_on_both_engines() {
    case(Engine::Sqlite).await;
    case(Engine::Postgres).await;
}
