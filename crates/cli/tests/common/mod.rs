//! Running the binary as a clerk does, on a fresh SQLite file and on a fresh PostgreSQL
//! database (`TAIZHANG_TEST_PG`; with `CI=true` a missing server fails).

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

pub fn run(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taizhang"))
        .current_dir(dir)
        .env("TAIZHANG_DB", db)
        .env_remove("RUST_BACKTRACE")
        .args(args)
        .output()
        .expect("run taizhang")
}

pub fn ok(dir: &Path, db: &str, args: &[&str]) -> String {
    let o = run(dir, db, args);
    assert!(o.status.success(), "{args:?} failed: {}\n{}", String::from_utf8_lossy(&o.stderr), String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `story(dir, db)` on a new SQLite file in a temporary directory.
pub fn on_sqlite(story: impl FnOnce(&Path, &str)) {
    let dir = tempfile::tempdir().expect("tmp");
    story(dir.path(), &dir.path().join("town.db").display().to_string());
}

/// Runs `story(dir, db)` on a new PostgreSQL database, dropped afterwards whatever happens.
pub fn on_postgres(label: &str, story: impl FnOnce(&Path, &str) + std::panic::UnwindSafe) {
    let Some(server) = taizhang_storage::testkit::pg_url() else { return };
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let name = format!("taizhang_cli_{label}_{}", std::process::id());
    let admin = rt.block_on(taizhang_storage::Db::connect(&server)).expect("server");
    rt.block_on(admin.exec_outside_tx(&format!("CREATE DATABASE {name}"))).expect("create db");
    let url = format!("{}/{name}", server.rsplit_once('/').map_or(server.as_str(), |(a, _)| a));
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().to_path_buf();
    let result = std::panic::catch_unwind(move || story(&path, &url));
    let _ = rt.block_on(admin.exec_outside_tx(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}
