//! `taizhang backup --out FILE` and `taizhang restore FILE` (docs/backup.md).
//!
//! SQLite: the copy and the replacement are `storage::backup`'s (a consistent online copy,
//! checked; a restore refused while the database is in use). PostgreSQL: the server's own
//! tools, `pg_dump` (custom format) and `pg_restore` into an empty database; where they are
//! missing, the procedure is printed instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use taizhang_storage::backup::{self, Inspection};
use taizhang_storage::{engine_of, Db, Engine};

/// What a check found, in one line.
fn checked(i: &Inspection) -> String {
    let chain = match &i.chain {
        Some(c) if c.ok() => format!("操作日志 {} 条，哈希链完好（链头 {}…）", c.checked, c.head_hash.get(..16).unwrap_or(&c.head_hash)),
        Some(_) => "操作日志哈希链断裂".to_string(),
        None => format!("操作日志 {} 条（此版本之前的数据库，尚无哈希链）", i.audit_entries),
    };
    format!("完整性检查 {}，数据库版本 {}，{chain}", i.integrity, i.version)
}

fn size_text(path: &Path) -> String {
    let n = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KB", n as f64 / 1024.0)
    }
}

pub async fn run_backup(target: &str, out: &Path) -> anyhow::Result<()> {
    match engine_of(target) {
        Engine::Sqlite => {
            let file = taizhang_storage::backend::sqlite_file(target);
            if !Path::new(file).is_file() {
                anyhow::bail!("找不到数据库文件「{file}」");
            }
            let db = Db::connect(target).await?;
            let started = std::time::Instant::now();
            let i = backup::sqlite_backup(&db, out).await;
            db.close().await;
            let i = i?;
            println!("已备份到 {}（{}，用时 {:.1} 秒；文件仅本账户可读）", out.display(), size_text(out), started.elapsed().as_secs_f64());
            println!("备份已检查：{}。", checked(&i));
            if let Some(p) = i.chain_break() {
                eprintln!("警告：{p}。备份照常保存（它是现状的证据）；请按 docs/audit.md 调查。");
            }
            println!("恢复：停止网页服务后运行 taizhang --db {file} restore {}", out.display());
            Ok(())
        }
        Engine::Postgres => pg_backup(target, out).await,
    }
}

pub async fn run_restore(target: &str, file: &Path) -> anyhow::Result<()> {
    match engine_of(target) {
        Engine::Sqlite => {
            let path = PathBuf::from(taizhang_storage::backend::sqlite_file(target));
            let r = backup::sqlite_restore(&path, file, chrono::Local::now()).await?;
            println!("已从 {} 恢复数据库 {}。", file.display(), path.display());
            println!("恢复的数据库已检查：{}。", checked(&r.inspection));
            if let Some(p) = r.inspection.chain_break() {
                eprintln!("警告：备份中{p}。数据已恢复；请按 docs/audit.md 调查。");
            }
            if let Some(p) = &r.previous {
                println!("原来的数据库已改名保留为 {}（确认无误后可自行删除）。", p.display());
            }
            Ok(())
        }
        Engine::Postgres => pg_restore(target, file).await,
    }
}

/// Whether a PostgreSQL tool can be run.
fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// The steps of a PostgreSQL backup and restore, for a server where the tools are missing
/// or the target is not empty.
fn pg_procedure(out: &str) -> String {
    format!(
        "PostgreSQL 的备份与恢复用数据库自带的工具（安装 postgresql-client）：\n\
         1. 备份（可在使用中进行，得到开始时刻的一致副本）：pg_dump --format=custom --no-owner --file={out} --dbname=\"postgres://用户@主机/库名\"\n\
         2. 恢复到一个新建的空数据库：createdb 新库名；pg_restore --no-owner --exit-on-error --single-transaction --dbname=\"postgres://用户@主机/新库名\" {out}\n\
         3. 核验：taizhang --db \"postgres://用户@主机/新库名\" audit verify\n\
         4. 停止网页服务，把配置中的 db 改为新库，再启动。\n\
         详见 docs/backup.md。"
    )
}

async fn pg_backup(target: &str, out: &Path) -> anyhow::Result<()> {
    if !have("pg_dump") {
        anyhow::bail!("找不到 pg_dump，未备份。{}", pg_procedure(&out.display().to_string()));
    }
    if out.exists() {
        anyhow::bail!("「{}」已存在，备份不覆盖已有文件，请换一个文件名", out.display());
    }
    // Checked before: a dump of a broken chain is worth knowing about at once.
    let db = Db::open(target).await?;
    let live = backup::inspect(&db).await;
    db.close().await;
    let live = live?;
    let partial = out.with_file_name(format!(".{}.部分", out.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    let _ = std::fs::remove_file(&partial);
    private_file(&partial)?;
    let started = std::time::Instant::now();
    let dumped = pg_tool("pg_dump", target)
        .args(["--format=custom", "--no-owner"])
        .arg(format!("--file={}", partial.display()))
        .output()
        .context("无法运行 pg_dump")?;
    let listed = dumped.status.success() && Command::new("pg_restore").arg("--list").arg(&partial).output().is_ok_and(|o| o.status.success());
    if !listed {
        let _ = std::fs::remove_file(&partial);
        anyhow::bail!("pg_dump 备份失败：{}", String::from_utf8_lossy(&dumped.stderr).trim());
    }
    std::fs::rename(&partial, out).with_context(|| format!("无法保存备份「{}」", out.display()))?;
    println!("已用 pg_dump 备份到 {}（{}，用时 {:.1} 秒；文件仅本账户可读）", out.display(), size_text(out), started.elapsed().as_secs_f64());
    println!("备份前数据库已检查：{}。", checked(&live));
    if let Some(p) = live.problem() {
        eprintln!("警告：{p}。备份照常保存（它是现状的证据）；请按 docs/audit.md 调查。");
    }
    println!("恢复：新建一个空数据库，运行 taizhang --db postgres://…/新库名 restore {}", out.display());
    Ok(())
}

/// A pg_dump or pg_restore run on `target`, its password (if the URL has one) passed in the
/// environment rather than on the command line, where any user of the machine could read it.
fn pg_tool(tool: &str, target: &str) -> Command {
    let mut c = Command::new(tool);
    let (url, password) = split_password(target);
    c.arg(format!("--dbname={url}"));
    if let Some(p) = password {
        c.env("PGPASSWORD", p);
    }
    c
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `secret`, percent-decoded).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return (url.to_string(), None) };
    let Some((user, password)) = userinfo.split_once(':') else { return (url.to_string(), None) };
    let mut bytes = Vec::new();
    let raw = password.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        match (raw[i], raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                bytes.push(b);
                i += 3;
            }
            (b, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    let rebuilt = format!("{scheme}://{user}@{host}{}", path.map(|p| format!("/{p}")).unwrap_or_default());
    (rebuilt, Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn private_file(path: &Path) -> anyhow::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map(drop).with_context(|| format!("无法建立文件「{}」", path.display()))
}

/// Restores a pg_dump file into the database `target`, which must be empty (a new database):
/// a database in use is never overwritten on PostgreSQL; the switch to the new one is the
/// administrator's (docs/backup.md).
async fn pg_restore(target: &str, file: &Path) -> anyhow::Result<()> {
    if !file.is_file() {
        anyhow::bail!("找不到备份文件「{}」", file.display());
    }
    if !have("pg_restore") {
        anyhow::bail!("找不到 pg_restore，未恢复。{}", pg_procedure(&file.display().to_string()));
    }
    let db = Db::connect(target).await?;
    let mut tx = db.read().await?;
    let tables = tx.fetch_one("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()", &[]).await?.int(0);
    drop(tx);
    db.close().await;
    if tables > 0 {
        anyhow::bail!(
            "数据库中已有 {tables} 张表：PostgreSQL 只恢复到新建的空数据库，不覆盖正在使用的数据库。{}",
            pg_procedure(&file.display().to_string())
        );
    }
    let restored = pg_tool("pg_restore", target)
        .args(["--no-owner", "--exit-on-error", "--single-transaction"])
        .arg(file)
        .output()
        .context("无法运行 pg_restore")?;
    if !restored.status.success() {
        anyhow::bail!("pg_restore 恢复失败（未写入任何内容）：{}", String::from_utf8_lossy(&restored.stderr).trim());
    }
    let db = Db::connect(target).await?;
    let i = backup::inspect(&db).await;
    db.close().await;
    let i = i?;
    println!("已从 {} 恢复到 {}。", file.display(), target.rsplit('/').next().unwrap_or(target));
    println!("恢复的数据库已检查：{}。", checked(&i));
    if let Some(p) = i.refusal() {
        anyhow::bail!("恢复的数据库未通过检查：{p}");
    }
    if let Some(p) = i.chain_break() {
        eprintln!("警告：备份中{p}。数据已恢复；请按 docs/audit.md 调查。");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_leaves_the_url_for_the_environment() {
        assert_eq!(
            split_password("postgres://taizhang:s%40cret:x@db.local:5432/town?sslmode=require"),
            ("postgres://taizhang@db.local:5432/town?sslmode=require".to_string(), Some("s@cret:x".to_string()))
        );
        assert_eq!(split_password("postgres://postgres@127.0.0.1/t"), ("postgres://postgres@127.0.0.1/t".to_string(), None));
        assert_eq!(split_password("postgres:///t"), ("postgres:///t".to_string(), None));
    }
}
