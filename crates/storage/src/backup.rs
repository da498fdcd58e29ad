//! Backups and restores of a SQLite database file (`taizhang backup`, `taizhang restore`).
//! PostgreSQL is backed up and restored by its own tools (`pg_dump`, `pg_restore`), which the
//! command line runs; the checks after a restore ([`inspect`]) are the same on both engines.
//!
//! What is SQLite's own here, and why this module talks to it directly: `VACUUM INTO` (a
//! consistent copy of a live database, read in one transaction while others go on writing),
//! `PRAGMA integrity_check`, and leaving WAL mode as the way to learn that no other
//! connection has the file open.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use crate::audit::{self, ChainCheck};
use crate::backend::{Db, Engine};
use crate::error::{Result, StoreError};

/// What a database (a backup, or one just restored) was found to be.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inspection {
    /// `PRAGMA integrity_check` on SQLite ("ok"); PostgreSQL checks its own pages: "ok".
    pub integrity: String,
    /// The newest migration the database has had, and the newest this program knows.
    pub version: i64,
    pub known_version: i64,
    pub audit_entries: i64,
    /// The audit chain, when the database has one (written by a program since the chain).
    pub chain: Option<ChainCheck>,
}

impl Inspection {
    /// Why the file cannot serve as the database at all (damaged pages, written by a newer
    /// program), in Chinese; `None` when it can.
    pub fn refusal(&self) -> Option<String> {
        if self.integrity != "ok" {
            return Some(format!("数据库文件已损坏（完整性检查：{}）", self.integrity));
        }
        if self.version > self.known_version {
            return Some(format!("数据库由更新版本的台账程序写入（迁移版本 {}），请先升级程序", self.version));
        }
        None
    }

    /// Where its audit chain breaks, in Chinese. A backup or restore goes ahead all the same
    /// and says so: a chain broken once stays broken, and the copy is the evidence.
    pub fn chain_break(&self) -> Option<String> {
        let b = self.chain.as_ref()?.broken.as_ref()?;
        Some(format!("操作日志的哈希链在第 {} 条处断裂：{}", b.id, b.reason))
    }

    /// `refusal`, else `chain_break`.
    pub fn problem(&self) -> Option<String> {
        self.refusal().or_else(|| self.chain_break())
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Database(format!("{what}「{}」失败：{e}", path.display()))
}

/// Checks a database: its pages, its migrations, its audit chain.
pub async fn inspect(db: &Db) -> Result<Inspection> {
    let mut tx = db.read().await?;
    let integrity = match tx.engine() {
        Engine::Sqlite => tx.fetch("PRAGMA integrity_check", &[]).await?.iter().map(|r| r.text(0)).collect::<Vec<_>>().join("；"),
        Engine::Postgres => "ok".to_string(),
    };
    let has = |tables: &std::collections::HashSet<String>, t: &str| tables.contains(t);
    let tables = tables(&mut tx).await?;
    if !has(&tables, "_sqlx_migrations") || !has(&tables, "audit") {
        return Err(StoreError::Conflict("这不是台账程序的数据库（没有迁移记录或操作日志表）".into()));
    }
    let failed = tx.fetch_one("SELECT COUNT(*) FROM _sqlx_migrations WHERE NOT success", &[]).await?.int(0);
    if failed > 0 {
        return Err(StoreError::Conflict("数据库的迁移没有完成（有失败的迁移记录）".into()));
    }
    let version = tx.fetch_one("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations", &[]).await?.int(0);
    let audit_entries = audit::count(&mut tx).await?;
    let chain = if has(&tables, "audit_head") { Some(audit::verify(&mut tx).await?) } else { None };
    Ok(Inspection { integrity, version, known_version: db.known_version(), audit_entries, chain })
}

async fn tables(tx: &mut crate::Tx) -> Result<std::collections::HashSet<String>> {
    let sql = match tx.engine() {
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        Engine::Postgres => "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()",
    };
    Ok(tx.fetch(sql, &[]).await?.iter().map(|r| r.text(0)).collect())
}

/// A file of mode 0600 (the database holds personal information), empty, which must not
/// exist yet.
fn create_private(path: &Path) -> Result<()> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map(drop).map_err(|e| io("建立文件", path, e))
}

/// A name beside `path` for work in progress: `.name.部分`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{suffix}"))
}

/// A consistent copy of a live SQLite database in `out` (which must not exist), checked
/// before it is given its name: `VACUUM INTO` reads the database in one read transaction, so
/// the copy holds exactly what was committed when it began, while others go on writing. The
/// file is mode 0600.
pub async fn sqlite_backup(db: &Db, out: &Path) -> Result<Inspection> {
    let pool = db.sqlite_pool().ok_or_else(|| StoreError::Internal("sqlite_backup on PostgreSQL".into()))?;
    if out.exists() {
        return Err(StoreError::Conflict(format!("「{}」已存在，备份不覆盖已有文件，请换一个文件名", out.display())));
    }
    let partial = beside(out, "部分");
    let _ = std::fs::remove_file(&partial);
    // VACUUM INTO writes into an empty file as into a new one: created first, private.
    create_private(&partial)?;
    let copied = sqlx::query("VACUUM INTO ?").bind(partial.to_string_lossy().into_owned()).execute(pool).await;
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e.into());
    }
    let checked = check_file(&partial).await;
    match checked {
        Ok(i) if i.refusal().is_none() => {
            std::fs::rename(&partial, out).map_err(|e| io("保存备份", out, e))?;
            Ok(i)
        }
        Ok(i) => {
            let _ = std::fs::remove_file(&partial);
            Err(StoreError::Conflict(format!("备份未通过检查，已删除：{}", i.refusal().unwrap_or_default())))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Opens a file read-only and inspects it.
pub async fn check_file(path: &Path) -> Result<Inspection> {
    let db = Db::open_read_only(path).await?;
    let i = inspect(&db).await;
    db.close().await;
    i
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub inspection: Inspection,
    /// Where the database that was replaced now is (kept, never deleted).
    pub previous: Option<PathBuf>,
}

/// Replaces the SQLite database `target` by the backup `backup`, or creates it. Refused when
/// another connection has `target` open (the web server, an import): the target is taken
/// out of WAL mode first, which SQLite allows only to its one connection, and held locked
/// while the copy is checked and moved into place. The backup is copied beside the target,
/// checked there (integrity, migrations, audit chain) and only then renamed over it; the
/// database it replaces is kept beside it as `名称.替换前-时间`.
pub async fn sqlite_restore(target: &Path, backup: &Path, now: chrono::DateTime<chrono::Local>) -> Result<Restored> {
    if !backup.is_file() {
        return Err(StoreError::NotFound(format!("找不到备份文件「{}」", backup.display())));
    }
    // Held until the new file is in place: nobody opens the old one meanwhile.
    let mut guard = match target.exists() {
        true => Some(lock_alone(target).await?),
        false => None,
    };
    let incoming = beside(target, "恢复中");
    let _ = std::fs::remove_file(&incoming);
    create_private(&incoming)?;
    std::fs::copy(backup, &incoming).map_err(|e| io("复制备份", backup, e))?;
    // `copy` gives the copy the backup's mode: the database is its owner's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&incoming, std::fs::Permissions::from_mode(0o600)).map_err(|e| io("设置权限", &incoming, e))?;
    }
    let inspection = match check_file(&incoming).await {
        Ok(i) if i.refusal().is_none() => i,
        Ok(i) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(StoreError::Conflict(format!("备份文件未通过检查，未恢复：{}", i.refusal().unwrap_or_default())));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(e);
        }
    };
    let mut previous = None;
    if guard.is_some() {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let aside = target.with_file_name(format!("{name}.替换前-{}", now.format("%Y%m%d-%H%M%S")));
        std::fs::rename(target, &aside).map_err(|e| io("保留原数据库", target, e))?;
        previous = Some(aside);
    }
    for leftover in ["-wal", "-shm", "-journal"] {
        let mut p = target.as_os_str().to_owned();
        p.push(leftover);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::rename(&incoming, target).map_err(|e| io("放入恢复的数据库", target, e))?;
    if let Some(c) = guard.take() {
        let _ = c.close().await;
    }
    Ok(Restored { inspection, previous })
}

/// One connection to `target` that no other has open, holding it locked: leaving WAL mode
/// needs the file to itself (it is refused, or quietly stays "wal", while another connection
/// has it), and `BEGIN EXCLUSIVE` in rollback mode then keeps everyone else out.
async fn lock_alone(target: &Path) -> Result<SqliteConnection> {
    let busy = || {
        StoreError::Conflict(format!(
            "数据库「{}」正在使用（网页服务、导入或其他命令正打开它），不能覆盖。请先停止使用它的程序，再恢复",
            target.display()
        ))
    };
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", target.display()))
        .map_err(|e| StoreError::Connect(e.to_string()))?
        .create_if_missing(false)
        // A program that has just closed the file may still be letting go of its locks for a
        // moment (a pool's connections close on their own threads): wait that long, no longer.
        .busy_timeout(std::time::Duration::from_secs(3));
    let mut conn = opts.connect().await.map_err(|e| StoreError::connect(&target.display().to_string(), e))?;
    let mode: std::result::Result<(String,), _> = sqlx::query_as("PRAGMA journal_mode = DELETE").fetch_one(&mut conn).await;
    match mode {
        Ok((m,)) if m.eq_ignore_ascii_case("delete") => {}
        _ => {
            let _ = conn.close().await;
            return Err(busy());
        }
    }
    if sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.is_err() {
        let _ = conn.close().await;
        return Err(busy());
    }
    Ok(conn)
}
