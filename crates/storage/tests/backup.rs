//! The backup drill on SQLite: a backup taken while another task keeps writing holds every
//! record committed before it began, passes its checks (integrity, migrations, audit chain),
//! and restores; a restore over a database in use is refused, over one not in use it replaces
//! it and keeps the old one beside it; a damaged backup is refused and changes nothing.
//! (PostgreSQL goes through pg_dump and pg_restore: `crates/cli/tests/backup_cli.rs`.)

mod common;
use common::*;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use taizhang_storage::backup::{self, Restored};
use taizhang_storage::testkit::TestDb;
use taizhang_storage::{persons, Db, Engine, Scope, StoreError};

async fn person_count(db: &Db) -> i64 {
    let mut tx = db.read().await.expect("read");
    tx.fetch_one("SELECT COUNT(*) FROM persons", &[]).await.expect("count").int(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_holds_every_record_committed_before_it() {
    let t = TestDb::new(Engine::Sqlite).await.expect("db").expect("sqlite");
    let db = t.db.clone();
    let village = town(&db).await.pingxi.id;
    // The writer: persons one transaction each, noting each id once its commit returned.
    let committed: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, committed, stop) = (db.clone(), committed.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let birth = format!("19{:02}0101", 50 + n / 900);
                let p = person(&db, &format!("居民{n}"), &id_number("433024", &birth, n % 900 + 1), village).await;
                committed.lock().expect("lock").push(p.id);
                n += 1;
            }
            n
        })
    };
    while committed.lock().expect("lock").len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let before: Vec<i64> = committed.lock().expect("lock").clone();
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("备份.db");
    let inspection = backup::sqlite_backup(&db, &out).await.expect("backup");
    let during = committed.lock().expect("lock").len();
    // The writer goes on a little after the backup, then stops.
    while committed.lock().expect("lock").len() < during + 50 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.await.expect("writer");
    assert!(written as usize >= before.len() + 50);
    assert_eq!(inspection.problem(), None);
    assert_eq!(inspection.integrity, "ok");
    assert_eq!(inspection.version, inspection.known_version);
    let chain = inspection.chain.as_ref().expect("chained");
    assert!(chain.ok() && chain.checked == inspection.audit_entries && chain.checked > before.len() as i64, "{chain:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a backup holds personal information: only its owner reads it");
    }
    assert!(matches!(backup::sqlite_backup(&db, &out).await, Err(StoreError::Conflict(m)) if m.contains("已存在")), "never overwritten");

    // Restored as a new database: every person committed before the backup began is there.
    let restored_path = dir.path().join("恢复.db");
    let Restored { inspection: again, previous } = backup::sqlite_restore(&restored_path, &out, chrono::Local::now()).await.expect("restore");
    assert_eq!(previous, None);
    assert_eq!(again.problem(), None);
    let restored = Db::open(&restored_path.display().to_string()).await.expect("open restored");
    let mut tx = restored.read().await.expect("read");
    for id in &before {
        persons::get(&mut tx, &Scope::all(), *id).await.unwrap_or_else(|e| panic!("person {id} committed before the backup: {e}"));
    }
    drop(tx);
    let n = person_count(&restored).await;
    assert!(n >= before.len() as i64 && n <= written as i64, "{n} persons: between {} and {written}", before.len());
    let inspected = backup::inspect(&restored).await.expect("inspect");
    assert_eq!(inspected.problem(), None);
    // The restored database works: it takes writes and its chain goes on.
    person(&restored, "恢复后新登记", &id_number("433024", "19990101", 1), village).await;
    let chain = backup::inspect(&restored).await.expect("inspect").chain.expect("chain");
    assert!(chain.ok(), "{:?}", chain.broken);
    restored.close().await;

    // Over the live database (its pool still open): refused, nothing touched.
    let live = std::path::PathBuf::from(&t.url);
    let refused = backup::sqlite_restore(&live, &out, chrono::Local::now()).await;
    assert!(matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("正在使用")), "{refused:?}");
    assert_eq!(person_count(&db).await, written as i64, "the live database still works, unchanged");
    db.close().await;

    // Not in use any more: replaced, the old one kept beside it.
    let Restored { previous, .. } = backup::sqlite_restore(&live, &out, chrono::Local::now()).await.expect("restore over");
    let previous = previous.expect("kept");
    assert!(previous.file_name().expect("name").to_string_lossy().contains(".替换前-"));
    let old = Db::open(&previous.display().to_string()).await.expect("old kept");
    assert_eq!(person_count(&old).await, written as i64);
    old.close().await;
    let back = Db::open(&t.url).await.expect("open");
    assert_eq!(person_count(&back).await, n, "the target holds the backup now");
    back.close().await;

    // A damaged backup: refused, the target unchanged.
    let mut bytes = std::fs::read(&out).expect("read");
    let len = bytes.len();
    bytes.truncate(len / 2);
    for b in bytes.iter_mut().skip(len / 4).take(4096) {
        *b = 0x5a;
    }
    let damaged = dir.path().join("坏.db");
    std::fs::write(&damaged, &bytes).expect("write");
    let refused = backup::sqlite_restore(&live, &damaged, chrono::Local::now()).await;
    assert!(refused.is_err(), "a damaged backup is refused");
    let back = Db::open(&t.url).await.expect("open");
    assert_eq!(person_count(&back).await, n);
    back.close().await;
    // Not a database of ours at all.
    let other = dir.path().join("别的.db");
    std::fs::write(&other, b"not a database").expect("write");
    assert!(backup::sqlite_restore(&dir.path().join("新.db"), &other, chrono::Local::now()).await.is_err());
    assert!(!dir.path().join("新.db").exists(), "nothing created");
}
