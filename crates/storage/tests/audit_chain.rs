//! The audit trail chained by hash, on both engines: appends from many tasks at once form one
//! chain; an entry edited, one removed from the middle and the last one removed are each found
//! by `audit::verify` at the right entry, as an attacker with access to the database would
//! leave them (the refusing triggers dropped first); entries written before the chain existed
//! are chained when the database is opened by this program.

mod common;
use common::*;

use taizhang_domain::role::Actor;
use taizhang_storage::audit::{self, Change, ChainCheck};
use taizhang_storage::{Db, Engine};

async fn append_note(db: &Db, note: &str) {
    let mut tx = db.begin().await.expect("begin");
    audit::append(&mut tx, &Actor::System, Change { action: "test", entity: "notes", entity_id: Some(1), place_id: None, before: None, after: Some(serde_json::json!({ "text": note })), note })
        .await
        .expect("append");
    tx.commit().await.expect("commit");
}

async fn verify(db: &Db) -> ChainCheck {
    let mut tx = db.read().await.expect("read");
    audit::verify(&mut tx).await.expect("verify")
}

/// Lifts the triggers that refuse changing and deleting entries, as someone with the
/// database's password could.
async fn as_attacker(db: &Db, sql: &str) {
    let lift = match db.engine() {
        Engine::Sqlite => "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;",
        Engine::Postgres => "DROP TRIGGER IF EXISTS audit_no_change ON audit;",
    };
    let mut tx = db.begin().await.expect("begin");
    tx.exec_script(&format!("{lift} {sql}")).await.expect("tamper");
    tx.commit().await.expect("commit");
}

async fn ten_entries(db: &Db) -> i64 {
    town(db).await;
    for i in 0..10 {
        append_note(db, &format!("第{i}条说明")).await;
    }
    let n = audit_count(db).await;
    assert!(n >= 14, "the town's places and ten notes: {n}");
    n
}

both!(concurrent_appends_form_one_chain, |db: Db| async move {
    town(&db).await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..15 {
                append_note(&db, &format!("任务{t}第{i}次")).await;
            }
        }));
    }
    // Runs of records (a bulk import's entries) go through the same chain.
    let mut tx = db.begin().await.expect("begin");
    let runs = audit::runs(&[(100, 1), (101, 1), (102, 2)]);
    audit::append_runs(&mut tx, &Actor::System, "create", "ld_test", &runs, "导入「测试.xlsx」").await.expect("runs");
    tx.commit().await.expect("commit");
    for t in tasks {
        t.await.expect("task");
    }
    let n = audit_count(&db).await;
    let check = verify(&db).await;
    assert!(check.ok(), "{:?}", check.broken);
    assert_eq!((check.checked, check.head_id), (n, n), "every entry chained, ids without gaps");
    assert_eq!(check.head_hash.len(), 64);
    assert!(check.oldest.is_some());
});

both!(an_edited_entry_breaks_the_chain_there, |db: Db| async move {
    let n = ten_entries(&db).await;
    assert!(verify(&db).await.ok());
    let target = n - 4;
    let mut tx = db.read().await.expect("read");
    let original = tx.fetch_one("SELECT note FROM audit WHERE id = $1", &[target.into()]).await.expect("row").text(0);
    drop(tx);
    as_attacker(&db, &format!("UPDATE audit SET note = '无事发生' WHERE id = {target}")).await;
    let check = verify(&db).await;
    let broken = check.broken.expect("an edited entry is found");
    assert_eq!(broken.id, target);
    assert!(broken.reason.contains(&format!("第 {target} 条")) && broken.reason.contains("被修改"), "{}", broken.reason);
    assert_eq!(check.checked, target - 1, "every entry before it holds");
    // Put back as it was, the entry fits its hash again.
    as_attacker(&db, &format!("UPDATE audit SET note = '{original}' WHERE id = {target}")).await;
    assert!(verify(&db).await.ok());
    // Its hash recomputed to fit the edit: the next entry no longer follows from it.
    as_attacker(&db, &format!("UPDATE audit SET after_json = '{{\"text\":\"改过\"}}' WHERE id = {target}")).await;
    let mut tx = db.read().await.expect("read");
    let rows = tx.fetch(&format!("SELECT id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note FROM audit WHERE id IN ({}, {}) ORDER BY id", target - 1, target), &[]).await.expect("rows");
    let prev = tx.fetch_one("SELECT hash FROM audit WHERE id = $1", &[(target - 1).into()]).await.expect("prev").text(0);
    drop(tx);
    let r = &rows[1];
    let fields = audit::ChainFields {
        id: r.int(0),
        at: r.text(1),
        actor: r.text(2),
        action: r.text(3),
        entity: r.text(4),
        entity_id: r.opt_int(5),
        last_entity_id: r.opt_int(6),
        place_id: r.opt_int(7),
        before_json: r.opt_text(8),
        after_json: r.opt_text(9),
        note: r.text(10),
    };
    let forged = audit::chain_hash(&prev, &fields);
    as_attacker(&db, &format!("UPDATE audit SET hash = '{forged}' WHERE id = {target}")).await;
    let broken = verify(&db).await.broken.expect("found one entry later");
    assert_eq!(broken.id, target + 1, "{}", broken.reason);
});

both!(a_deleted_entry_breaks_the_chain_there, |db: Db| async move {
    let n = ten_entries(&db).await;
    let gone = n - 5;
    as_attacker(&db, &format!("DELETE FROM audit WHERE id = {gone}")).await;
    let check = verify(&db).await;
    let broken = check.broken.expect("a deleted entry is found");
    assert_eq!(broken.id, gone + 1, "the entry after the gap");
    assert!(broken.reason.starts_with(&format!("第 {gone} 条被删除")), "{}", broken.reason);
    assert!(!broken.reason.is_ascii());
});

both!(deleting_the_last_entries_is_seen_by_the_head, |db: Db| async move {
    let n = ten_entries(&db).await;
    as_attacker(&db, &format!("DELETE FROM audit WHERE id >= {}", n - 1)).await;
    let broken = verify(&db).await.broken.expect("the tail's removal is found");
    assert_eq!(broken.id, n);
    assert!(broken.reason.contains(&format!("第 {}–{n} 条", n - 1)) && broken.reason.contains("被删除"), "{}", broken.reason);
});

both!(an_entry_written_around_the_program_is_off_the_chain, |db: Db| async move {
    let n = ten_entries(&db).await;
    as_attacker(&db, &format!("INSERT INTO audit (id, at, actor, action, entity, note) VALUES ({}, '2023-05-01T00:00:00.000Z', 'system', 'create', 'persons', '')", n + 1)).await;
    let broken = verify(&db).await.broken.expect("found");
    assert_eq!(broken.id, n + 1);
    assert!(broken.reason.contains("不在链上"), "{}", broken.reason);
    // Nor can the program append after it as if nothing happened: its next id is taken.
    let mut tx = db.begin().await.expect("begin");
    // SQLite refuses the append, PostgreSQL the commit that chains it.
    let refused = match audit::append(&mut tx, &Actor::System, Change { action: "test", entity: "notes", entity_id: None, place_id: None, before: None, after: None, note: "" }).await {
        Ok(()) => tx.commit().await,
        Err(e) => Err(e),
    };
    assert!(refused.is_err());
});

both!(the_head_cannot_go_back_or_away, |db: Db| async move {
    ten_entries(&db).await;
    let mut tx = db.begin().await.expect("begin");
    assert!(tx.exec_script("UPDATE audit_head SET last_id = 1").await.is_err(), "the head moves forward only");
    drop(tx);
    let mut tx = db.begin().await.expect("begin");
    assert!(tx.exec_script("DELETE FROM audit_head").await.is_err(), "the head stays");
    drop(tx);
    let mut tx = db.begin().await.expect("begin");
    assert!(tx.exec_script("DELETE FROM audit WHERE id = 1").await.is_err(), "entries are not deleted");
    drop(tx);
    assert!(verify(&db).await.ok());
});

/// Entries written by an older program, before the chain: opening the database chains them,
/// once, and the chain then goes on from them.
async fn legacy_entries_are_chained_on_open(target: &str, before_chain: i64) {
    let db = Db::connect(target).await.expect("connect");
    db.migrate_up_to(before_chain).await.expect("old schema");
    let mut tx = db.begin().await.expect("begin");
    for i in 1..=1200 {
        tx.exec(
            "INSERT INTO audit (at, actor, action, entity, entity_id, before_json, after_json, note) VALUES ($1, 'system', 'update', 'persons', $2, $3, NULL, '')",
            &[taizhang_storage::Arg::Time(taizhang_storage::now()), i.into(), format!("{{\"name\":\"旧{i}\"}}").into()],
        )
        .await
        .expect("old entry");
    }
    tx.commit().await.expect("commit");
    db.close().await;
    let db = Db::open(target).await.expect("upgrade");
    let check = verify(&db).await;
    assert!(check.ok(), "{:?}", check.broken);
    assert_eq!(check.checked, 1200);
    append_note(&db, "升级之后").await;
    let check = verify(&db).await;
    assert!(check.ok(), "{:?}", check.broken);
    assert_eq!((check.checked, check.head_id), (1201, 1201));
    // Opening again chains nothing more and changes nothing.
    db.close().await;
    let db = Db::open(target).await.expect("reopen");
    assert_eq!(verify(&db).await, check);
    as_attacker(&db, "UPDATE audit SET before_json = '{\"name\":\"改\"}' WHERE id = 600").await;
    assert_eq!(verify(&db).await.broken.map(|b| b.id), Some(600), "old entries are protected too");
    db.close().await;
}

#[tokio::test]
async fn legacy_entries_are_chained_on_open_sqlite() {
    let dir = std::env::temp_dir().join(format!("taizhang-chain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("old.db");
    let _ = std::fs::remove_file(&path);
    legacy_entries_are_chained_on_open(&path.to_string_lossy(), 4).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn legacy_entries_are_chained_on_open_postgres() {
    let Some(server) = taizhang_storage::testkit::pg_url() else { return };
    let name = format!("taizhang_chain_{}", std::process::id());
    let admin = Db::connect(&server).await.expect("server");
    admin.exec_outside_tx(&format!("DROP DATABASE IF EXISTS {name}")).await.expect("drop");
    admin.exec_outside_tx(&format!("CREATE DATABASE {name}")).await.expect("create");
    let (base, _) = server.rsplit_once('/').expect("url with a database");
    legacy_entries_are_chained_on_open(&format!("{base}/{name}"), 3).await;
    admin.exec_outside_tx(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.expect("drop");
}

/// PostgreSQL: a transaction's entries join the chain when it commits, so a long transaction
/// that has appended entries (an import) holds up nobody else's commit (a sign-in); entries
/// rolled back to a savepoint, or with the transaction, never join it.
#[tokio::test]
async fn an_open_transaction_holds_up_no_other_commit_postgres() {
    let Some(t) = taizhang_storage::testkit::TestDb::new(Engine::Postgres).await.expect("postgres") else { return };
    let db = t.db.clone();
    let note = |n: &'static str| Change { action: "test", entity: "notes", entity_id: None, place_id: None, before: None, after: None, note: n };
    let mut long = db.begin().await.expect("begin");
    audit::append(&mut long, &Actor::System, note("导入中")).await.expect("append");
    let quick = tokio::time::timeout(std::time::Duration::from_secs(5), append_note(&db, "登录")).await;
    assert!(quick.is_ok(), "a commit waited for another transaction's entries");
    long.exec_script("SAVEPOINT s").await.expect("savepoint");
    audit::append(&mut long, &Actor::System, note("撤回的")).await.expect("append");
    long.exec_script("ROLLBACK TO SAVEPOINT s").await.expect("rollback to");
    audit::append(&mut long, &Actor::System, note("导入完成")).await.expect("append");
    long.commit().await.expect("commit");
    let mut dry = db.begin().await.expect("begin");
    audit::append(&mut dry, &Actor::System, note("试导入")).await.expect("append");
    drop(dry);
    let mut tx = db.read().await.expect("read");
    let notes: Vec<String> = tx.fetch("SELECT note FROM audit WHERE entity = 'notes' ORDER BY id", &[]).await.expect("notes").iter().map(|r| r.text(0)).collect();
    assert_eq!(notes, ["登录", "导入中", "导入完成"], "in commit order, nothing rolled back");
    let check = audit::verify(&mut tx).await.expect("verify");
    assert!(check.ok(), "{:?}", check.broken);
}

// The data version every request reads comes from the index of writes alone, not from a walk
// back past every sign-in since the last write; and it is the newest write's id.
both!(the_data_version_is_read_from_the_index_of_writes, |db: Db| async move {
    let q = format!("SELECT {}", audit::data_version_sql());
    let mut tx = db.begin().await.expect("begin");
    let write = Change { action: "update", entity: "places", entity_id: Some(1), place_id: None, before: None, after: None, note: "测试：写入" };
    audit::append(&mut tx, &Actor::System, write).await.expect("write");
    tx.commit().await.expect("commit");
    let mut tx = db.begin().await.expect("begin");
    let written = tx.fetch_one("SELECT MAX(id) FROM audit", &[]).await.expect("max").int(0);
    for _ in 0..3 {
        let sign_in = Change { action: "sign_in", entity: "users", entity_id: Some(1), place_id: None, before: None, after: None, note: "测试：登录" };
        audit::append(&mut tx, &Actor::System, sign_in).await.expect("sign in");
    }
    tx.commit().await.expect("commit");
    let mut tx = db.read().await.expect("read");
    assert_eq!(tx.fetch_one(&q, &[]).await.expect("version").int(0), written, "sign-ins pass over");
    let plan: Vec<String> = match db.engine() {
        Engine::Sqlite => tx.fetch(&format!("EXPLAIN QUERY PLAN {q}"), &[]).await.expect("plan").iter().map(|r| r.text(3)).collect(),
        Engine::Postgres => {
            // A new table has no statistics: the planner is told to prefer an index, and must
            // then find this one usable.
            tx.exec("SET LOCAL enable_seqscan = off", &[]).await.expect("set");
            tx.fetch(&format!("EXPLAIN {q}"), &[]).await.expect("plan").iter().map(|r| r.text(0)).collect()
        }
    };
    assert!(plan.iter().any(|l| l.contains("audit_writes")), "{plan:?}");
});
