//! `batch::insert` of a few hundred records — by `COPY` on PostgreSQL, by multi-row `INSERT`s
//! on SQLite — gives each row the id returned for it, stores every value as given (texts with
//! tabs, line breaks and backslashes, money, dates, blanks), and covers every record with an
//! audit run. On PostgreSQL also when another session takes ids from the same sequence while
//! the import writes (here: a sequence that counts by two), so the ids are not one range.

mod common;
use common::*;

use taizhang_domain::role::Actor;
use taizhang_domain::value::{Value, Values};
use taizhang_storage::audit::{self, AuditQuery};
use taizhang_storage::records;
use taizhang_storage::{batch, ledgers, Db, Engine, Scope};

async fn load(db: &Db, rows: usize) {
    let t = town(&db.clone()).await;
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
    let mut homes = Vec::new();
    for k in 0..7u32 {
        let head = person(db, &format!("户主{k}"), &id_number("431224", "19600101", k * 2 + 1), if k % 2 == 0 { t.pingxi.id } else { t.maopo.id }).await;
        homes.push((household(db, &format!("H{k:03}"), &head).await, head.place_id));
    }
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let mut prepared = Vec::new();
    let mut wanted = Vec::new();
    for i in 0..rows {
        let (home, place) = homes[i % homes.len()];
        let mut v = Values::new();
        v.insert("pay_month".into(), Value::Text(format!("{}-{:02}", 2000 + i / 84, 1 + i / 7 % 12)));
        v.insert("kind".into(), Value::Text("正常发放".into()));
        v.insert("amount".into(), Value::Int(30_000 + i as i64));
        if i % 3 != 0 {
            v.insert("paid_on".into(), Value::Date(d("2023-01-01") + chrono::Days::new(i as u64)));
        }
        if i % 5 != 0 {
            v.insert("remarks".into(), Value::Text(format!("第{i}行\t制表符\\反斜杠\\N 不是空\n下一行\r")));
        }
        wanted.push((home, v.clone()));
        prepared.push(batch::prepare(&def, place, Some(home), None, v, today()).expect("valid"));
    }
    let placed = batch::insert(&mut tx, &def, &Actor::System, prepared, today(), "导入「测试.xlsx」").await.expect("insert");
    tx.commit().await.expect("commit");
    assert_eq!(placed.len(), rows);
    let mut tx = db.read().await.expect("read");
    let mut ids: Vec<i64> = placed.iter().map(|(id, _)| *id).collect();
    for ((id, place), (home, values)) in placed.iter().zip(&wanted) {
        let r = records::get(&mut tx, &def, &Scope::all(), *id).await.expect("the row's own id");
        assert_eq!((r.subject_id, r.place_id), (Some(*home), *place), "record {id}");
        for (k, v) in values {
            assert_eq!(r.values.get(k), Some(v), "record {id}, {k}");
        }
        assert!(r.values.contains_key("remarks") == values.contains_key("remarks"), "record {id}: a blank stays blank");
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), rows, "every row its own id");
    for id in ids.iter().step_by(37) {
        let q = AuditQuery { entity: Some(def.table_name()), entity_id: Some(*id), ..Default::default() };
        let e = audit::list(&mut tx, &Scope::all(), &q).await.expect("audit");
        assert!(e.iter().any(|e| e.action == "create" && e.note.contains("测试.xlsx")), "record {id} covered by a run: {e:?}");
    }
}

both!(a_batch_of_records_keeps_its_ids_values_and_audit, |db: Db| async move {
    load(&db, 650).await;
});

#[tokio::test]
async fn ids_are_found_when_the_sequence_is_not_one_range() {
    let Some(t) = taizhang_storage::testkit::TestDb::new(Engine::Postgres).await.expect("db") else { return };
    let db = t.db.clone();
    // The ledger's table exists once the ledgers are installed: make its sequence count by two,
    // as if another session took every other id.
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.exec_script("ALTER TABLE ld_dibao_payments ALTER COLUMN id SET INCREMENT BY 2").await.expect("increment");
    tx.commit().await.expect("commit");
    load(&db, 450).await;
}
