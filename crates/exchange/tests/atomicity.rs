//! A killed import leaves nothing behind: the whole file is one transaction.

mod common;
use common::*;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use taizhang_domain::role::Actor;
use taizhang_exchange::{import_file, ImportOptions};
use taizhang_storage::{Db, Engine, Scope};

const DB_VAR: &str = "TAIZHANG_EXCHANGE_CHILD_DB";
const FILE_VAR: &str = "TAIZHANG_EXCHANGE_CHILD_FILE";

fn opts() -> ImportOptions {
    ImportOptions { ledger: Some("hazards".into()), ..Default::default() }
}

/// Run by `sigkill_mid_import_writes_nothing` in a child process; does nothing on its own.
#[tokio::test]
#[ignore = "child process of sigkill_mid_import_writes_nothing"]
async fn child_import() {
    let (Ok(url), Ok(file)) = (std::env::var(DB_VAR), std::env::var(FILE_VAR)) else { return };
    let db = Db::open(&url).await.expect("open");
    println!("IMPORT_STARTED");
    import_file(&db, &Actor::System, &Scope::all(), std::path::Path::new(&file), &opts(), today()).await.expect("import");
    println!("IMPORT_FINISHED");
}

#[tokio::test]
async fn sigkill_mid_import_writes_nothing() {
    let t = taizhang_storage::testkit::TestDb::new(Engine::Sqlite).await.expect("db").expect("sqlite");
    town(&t.db).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("big.csv");
    let mut text = String::from("所属村,发现日期,行业领域,隐患等级,隐患地点,隐患描述,整改资金\n");
    for i in 0..10_000 {
        text.push_str(&format!("坪溪村,2023-03-{:02},燃气,一般,地点{i},描述{i},{i}.5\n", i % 28 + 1));
    }
    std::fs::write(&file, text).expect("write");
    let audits = audit_count(&t.db).await;

    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "child_import", "--ignored", "--nocapture", "--test-threads=1"])
        .env(DB_VAR, &t.url)
        .env(FILE_VAR, &file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines.next().expect("child output").expect("line");
        if line.contains("IMPORT_STARTED") {
            break;
        }
    }
    // Let it write a good part of the file inside its transaction, then kill it (SIGKILL).
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(child.try_wait().expect("wait").is_none(), "the import finished before it could be killed; make the file bigger");
    child.kill().expect("kill");
    child.wait().expect("reap");

    assert_eq!(record_count(&t.db, "hazards").await, 0, "a killed import leaves no rows");
    assert_eq!(audit_count(&t.db).await, audits, "and no audit entries");
    // The database is intact and the same file imports completely afterwards.
    let r = import_file(&t.db, &Actor::System, &Scope::all(), &file, &opts(), today()).await.expect("import");
    assert_eq!((r.new, r.rejected), (10_000, 0));
    assert_eq!(record_count(&t.db, "hazards").await, 10_000);
}
