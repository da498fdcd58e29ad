//! The backup drill through the binary, on SQLite and PostgreSQL: `taizhang backup` taken while
//! another task keeps registering persons holds every one committed before it began;
//! `taizhang restore` brings it back (into a new SQLite file, or a new empty PostgreSQL
//! database) consistent — its checks pass and `taizhang audit verify` says the chain holds;
//! a restore over a database in use (SQLite) or not empty (PostgreSQL) is refused; `audit
//! verify` exits non-zero, naming the entry, once an entry has been edited (a backup is still
//! taken then, with a warning).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::{ok, on_postgres, on_sqlite, run};
use taizhang_storage::fixtures::{id_number, person};
use taizhang_storage::{places, Db};

/// Runs the drill on `db` (a target the binary is given), restoring into `restore_to`.
fn drill(dir: &Path, db: &str, restore_to: &str) {
    ok(dir, db, &["init", "--town", "北斗溪镇", "--code", "431224110000", "--county", "溆浦县"]);
    ok(dir, db, &["place", "add", "--parent", "北斗溪镇", "--name", "坪溪村", "--code", "431224110201"]);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    // Connections are handed back to their pool on the runtime, also when dropped outside it.
    let _enter = rt.enter();
    let conn = rt.block_on(Db::connect(db)).expect("connect");
    let village = {
        let mut tx = rt.block_on(conn.read()).expect("read");
        rt.block_on(places::by_code(&mut tx, "431224110201")).expect("place").expect("village").id
    };
    // The writer: a person a transaction, each id noted once its commit has returned.
    let committed: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (conn, committed, stop) = (conn.clone(), committed.clone(), stop.clone());
        rt.spawn(async move {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let birth = format!("19{:02}0101", 50 + n / 900);
                let p = person(&conn, &format!("居民{n}"), &id_number("433024", &birth, n % 900 + 1), village).await;
                committed.lock().expect("lock").push(p.id);
                n += 1;
            }
            n
        })
    };
    let wait_for = |n: usize| {
        while committed.lock().expect("lock").len() < n {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    wait_for(100);
    let before: Vec<i64> = committed.lock().expect("lock").clone();
    let out = dir.join("备份.bak");
    let said = ok(dir, db, &["backup", "--out", out.to_str().expect("path")]);
    assert!(said.contains("已") && said.contains("备份"), "{said}");
    let during = committed.lock().expect("lock").len();
    wait_for(during + 30);
    stop.store(true, Ordering::Relaxed);
    let written = rt.block_on(writer).expect("writer") as usize;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).expect("backup").permissions().mode() & 0o777, 0o600);
    }
    // Never over an existing file.
    let again = run(dir, db, &["backup", "--out", out.to_str().expect("path")]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("已存在"));

    let said = ok(dir, restore_to, &["restore", out.to_str().expect("path")]);
    assert!(said.contains("哈希链完好"), "{said}");
    let verified = ok(dir, restore_to, &["audit", "verify"]);
    assert!(verified.starts_with("操作日志完整"), "{verified}");
    let restored = rt.block_on(Db::connect(restore_to)).expect("restored");
    let mut tx = rt.block_on(restored.read()).expect("read");
    let ids: std::collections::HashSet<i64> = rt
        .block_on(tx.fetch("SELECT id FROM persons", &[]))
        .expect("persons")
        .iter()
        .map(|r| r.int(0))
        .collect();
    drop(tx);
    rt.block_on(restored.close());
    let missing: Vec<&i64> = before.iter().filter(|id| !ids.contains(id)).collect();
    assert!(missing.is_empty(), "committed before the backup began, missing after the restore: {missing:?}");
    assert!(ids.len() >= before.len() && ids.len() <= written, "{} persons restored, {} before, {written} written", ids.len(), before.len());
    rt.block_on(conn.close());
}

#[test]
fn backup_during_writes_and_restore_sqlite() {
    on_sqlite(|dir, db| {
        let restored = dir.join("恢复.db").display().to_string();
        drill(dir, db, &restored);
        // Over a database in use: refused, the database untouched.
        let rt = tokio::runtime::Runtime::new().expect("rt");
        let _enter = rt.enter();
        let open = rt.block_on(Db::open(db)).expect("open");
        let refused = run(dir, db, &["restore", "备份.bak"]);
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success() && err.contains("正在使用"), "{err}");
        rt.block_on(open.close());
        // Not in use: replaced, the old one kept.
        let said = ok(dir, db, &["restore", "备份.bak"]);
        assert!(said.contains("改名保留"), "{said}");

        // An entry edited behind the program's back: verify names it and fails.
        let conn = rt.block_on(Db::open(db)).expect("open");
        let mut tx = rt.block_on(conn.begin()).expect("begin");
        rt.block_on(tx.exec_script("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'nobody' WHERE id = 5;")).expect("tamper");
        rt.block_on(tx.commit()).expect("commit");
        rt.block_on(conn.close());
        let o = run(dir, db, &["audit", "verify"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "a broken chain is a failure");
        assert!(err.contains("第 5 条") && err.contains("被修改"), "{err}");
        // A backup of it is still taken (it is the evidence), and says the chain is broken.
        let o = run(dir, db, &["backup", "--out", "证据.bak"]);
        assert!(o.status.success() && String::from_utf8_lossy(&o.stderr).contains("警告：操作日志的哈希链在第 5 条处断裂"));
        assert!(dir.join("证据.bak").exists());
    });
}

#[test]
fn backup_during_writes_and_restore_postgres() {
    on_postgres("backup", |dir, db| {
        let Some(server) = taizhang_storage::testkit::pg_url() else { return };
        let rt = tokio::runtime::Runtime::new().expect("rt");
        let admin = rt.block_on(Db::connect(&server)).expect("server");
        let name = format!("taizhang_cli_restored_{}", std::process::id());
        rt.block_on(admin.exec_outside_tx(&format!("DROP DATABASE IF EXISTS {name}"))).expect("drop");
        rt.block_on(admin.exec_outside_tx(&format!("CREATE DATABASE {name}"))).expect("create");
        let restored = format!("{}/{name}", server.rsplit_once('/').map_or(server.as_str(), |(a, _)| a));
        let result = std::panic::catch_unwind(|| {
            drill(dir, db, &restored);
            // Into a database that is not empty: refused, with the procedure.
            let o = run(dir, db, &["restore", "备份.bak"]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success() && err.contains("空数据库") && err.contains("pg_restore"), "{err}");
        });
        rt.block_on(admin.exec_outside_tx(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).expect("drop");
        if let Err(p) = result {
            std::panic::resume_unwind(p);
        }
    });
}
