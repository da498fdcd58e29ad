//! Databases for tests, on both engines (the atuin "story test" pattern).
//!
//! SQLite: a fresh file in a temporary directory. PostgreSQL: when `TAIZHANG_TEST_PG` holds a
//! server URL, a freshly created database with a unique name, dropped when the handle drops.
//! With `CI=true`, a missing PostgreSQL URL or server is a failure, never a skip.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::backend::{Db, Engine};
use crate::error::{Result, StoreError};

pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile_dir::Dir>,
    pg: Option<(String, String)>,
}

mod tempfile_dir {
    /// A directory removed on drop; kept private so the crate needs no tempfile dependency.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{n}", std::process::id(), t % 1_000_000_000)
}

/// The PostgreSQL server URL for tests, or `None` to skip (never under `CI=true`).
pub fn pg_url() -> Option<String> {
    match std::env::var("TAIZHANG_TEST_PG") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but TAIZHANG_TEST_PG is not set: PostgreSQL tests must run in CI")
        }
        _ => {
            eprintln!("TAIZHANG_TEST_PG not set: skipping the PostgreSQL half of this test");
            None
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    // Replace the path of the server URL with the new database's name, keeping any query.
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let root = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl TestDb {
    pub async fn new(engine: Engine) -> Result<Option<TestDb>> {
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(unique("taizhang_test"));
                std::fs::create_dir_all(&dir).map_err(|e| StoreError::Internal(e.to_string()))?;
                let url = dir.join("test.db").display().to_string();
                let db = Db::open(&url).await?;
                Ok(Some(TestDb { db, url, _dir: Some(tempfile_dir::Dir(dir)), pg: None }))
            }
            Engine::Postgres => {
                let Some(server) = pg_url() else { return Ok(None) };
                let name = unique("taizhang_test");
                let admin = Db::connect(&server).await?;
                admin.exec_outside_tx(&format!("CREATE DATABASE {name}")).await?;
                admin.close().await;
                let url = with_database(&server, &name);
                let db = Db::open(&url).await?;
                Ok(Some(TestDb { db, url, _dir: None, pg: Some((server, name)) }))
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.pg.take() else { return };
        // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                // FORCE ends the test's own pooled connections; closing the pool here would
                // wait for connections whose release is queued on the (blocked) test runtime.
                if let Ok(admin) = Db::connect(&server).await {
                    let _ = admin.exec_outside_tx(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}
