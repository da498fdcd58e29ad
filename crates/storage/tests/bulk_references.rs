//! A streamed `COPY` on PostgreSQL runs with the rows' triggers off when the session may
//! (`Tx::bulk_foreign_keys`) and then checks the foreign keys set-wise: what the per-row
//! triggers guarantee still holds — a record never references a missing place or subject,
//! and the rows it references cannot be deleted by another session before it commits — and
//! the triggers are on again for whatever the transaction does next.

mod common;
use common::*;

use taizhang_domain::role::Actor;
use taizhang_domain::value::{Value, Values};
use taizhang_storage::batch::{self, Prepared};
use taizhang_storage::testkit::TestDb;
use taizhang_storage::{ledgers, Db, Engine, StoreError};

/// Three households and `rows` payments spread over them (and `bogus` as the subject of the
/// last row when given), prepared for `insert_streamed`.
async fn prepared(db: &Db, rows: usize, bogus: Option<i64>) -> (Vec<i64>, Vec<Prepared>) {
    let t = town(db).await;
    let defs = taizhang_domain::catalogue::builtin_ledgers().expect("catalogue");
    let mut tx = db.begin().await.expect("begin");
    ledgers::install_builtin(&mut tx, &Actor::System, &defs).await.expect("install");
    tx.commit().await.expect("commit");
    let mut homes = Vec::new();
    for k in 0..3u32 {
        let head = person(db, &format!("户主{k}"), &id_number("431224", "19600101", k * 2 + 1), t.pingxi.id).await;
        homes.push(household(db, &format!("H{k:03}"), &head).await);
    }
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    drop(tx);
    let out = (0..rows)
        .map(|i| {
            let subject = match bogus {
                Some(b) if i + 1 == rows => b,
                _ => homes[i % homes.len()],
            };
            let mut v = Values::new();
            v.insert("pay_month".into(), Value::Text(format!("{}-{:02}", 2000 + i / 36, 1 + i / 3 % 12)));
            v.insert("kind".into(), Value::Text("正常发放".into()));
            v.insert("amount".into(), Value::Int(30_000));
            batch::prepare(&def, t.pingxi.id, Some(subject), None, v, today()).expect("valid")
        })
        .collect();
    (homes, out)
}

/// Hands `rows` over a hundred at a time.
fn parts(rows: Vec<Prepared>) -> impl FnMut() -> Option<Vec<Prepared>> {
    let mut rest = rows.into_iter();
    move || {
        let part: Vec<Prepared> = rest.by_ref().take(100).collect();
        (!part.is_empty()).then_some(part)
    }
}

#[tokio::test]
async fn referenced_rows_exist_and_stay_locked_until_commit() {
    let Some(t) = TestDb::new(Engine::Postgres).await.expect("db") else { return };
    let db = t.db.clone();
    let (homes, rows) = prepared(&db, 350, None).await;
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    assert!(tx.bulk_foreign_keys(&def.table_name()).await.expect("keys").is_some(), "the tests' role may switch triggers off");
    let placed = batch::insert_streamed(&mut tx, &def, &Actor::System, today(), "测试", 350, parts(rows)).await.expect("insert");
    assert_eq!(placed.len(), 350);
    let role = tx.fetch_one("SELECT current_setting('session_replication_role')", &[]).await.expect("role").text(0);
    assert_eq!(role, "origin", "triggers on again after the COPY");

    // Another session cannot delete a household the new records reference while they are
    // not committed: the check locked it as the trigger would have.
    let mut other = db.begin().await.expect("begin");
    other.exec_script("SET LOCAL lock_timeout = '300ms'").await.expect("timeout");
    let del = other.exec_script(&format!("DELETE FROM households WHERE id = {}", homes[1])).await;
    let err = del.expect_err("the delete waits for the import's lock");
    assert!(err.to_string().contains("lock timeout"), "{err}");
    drop(other);
    tx.commit().await.expect("commit");

    let mut tx = db.read().await.expect("read");
    let n = tx.fetch_one("SELECT COUNT(*) FROM ld_dibao_payments", &[]).await.expect("count").int(0);
    assert_eq!(n, 350);
}

#[tokio::test]
async fn a_missing_subject_is_refused_and_nothing_stays() {
    let Some(t) = TestDb::new(Engine::Postgres).await.expect("db") else { return };
    let db = t.db.clone();
    let (_, rows) = prepared(&db, 350, Some(987_654)).await;
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let r = batch::insert_streamed(&mut tx, &def, &Actor::System, today(), "测试", 350, parts(rows)).await;
    match r {
        Err(StoreError::Conflict(m)) => assert!(m.contains("subject_id") && m.contains("不存在"), "{m}"),
        other => panic!("a record referencing a missing household must be refused: {other:?}"),
    }
    drop(tx);
    let mut tx = db.read().await.expect("read");
    let n = tx.fetch_one("SELECT COUNT(*) FROM ld_dibao_payments", &[]).await.expect("count").int(0);
    assert_eq!(n, 0, "nothing written");
}

/// A role that may not set `session_replication_role` (not a superuser, no `SET` granted)
/// keeps the per-row triggers: the fast path is not taken, and a missing subject is still
/// refused — by the trigger. Granted `SET` on the parameter (PostgreSQL 15), it may.
#[tokio::test]
async fn a_role_without_the_right_keeps_the_triggers_and_one_granted_it_may() {
    let Some(t) = TestDb::new(Engine::Postgres).await.expect("db") else { return };
    let db = t.db.clone();
    let (_, rows) = prepared(&db, 350, Some(987_654)).await;
    let role = "taizhang_test_plain";
    // Roles belong to the server, not the test's database: made once, kept (no login).
    let mut tx = db.begin().await.expect("begin");
    tx.exec_script(&format!("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role}; END IF; END$$"))
        .await
        .expect("role");
    tx.commit().await.expect("commit");
    let mut tx = db.begin().await.expect("begin");
    let def = ledgers::get(&mut tx, "dibao_payments").await.expect("def");
    let table = def.table_name();
    tx.exec_script(&format!(
        "GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}; \
         SET LOCAL ROLE {role}"
    ))
    .await
    .expect("role");
    assert!(tx.bulk_foreign_keys(&table).await.expect("keys").is_none(), "no right to switch triggers off");
    let r = batch::insert_streamed(&mut tx, &def, &Actor::System, today(), "测试", 350, parts(rows)).await;
    let err = r.expect_err("the missing household is refused by the trigger");
    assert!(!err.to_string().contains("批量写入"), "refused by the per-row trigger, not the set-wise check: {err}");
    drop(tx);

    let version = db.read().await.expect("read").fetch_one("SELECT current_setting('server_version_num')::int", &[]).await.expect("version").int(0);
    if version >= 150_000 {
        let mut tx = db.begin().await.expect("begin");
        tx.exec_script(&format!("GRANT SET ON PARAMETER session_replication_role TO {role}; SET LOCAL ROLE {role}")).await.expect("grant");
        assert!(tx.bulk_foreign_keys(&table).await.expect("keys").is_some(), "granted SET on the parameter");
    }
}
