//! `taizhang merge TOWN.db --into postgres://…`: a town's database merged into the county's
//! (storage::merge, docs/county.md). Prints what came over kind by kind, the conflicts and
//! what was not merged, then a summary line; a refusal is the command's error (non-zero exit).

use std::path::Path;

use anyhow::Context as _;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::role::{Actor, Role};
use taizhang_storage::merge::{self, Options};
use taizhang_storage::places;
use taizhang_storage::{engine_of, Db, Engine};

use super::print_json;
use crate::context::Ctx;

pub async fn run(town: &Path, into: &str, as_user: Option<&str>, dry_run: bool, accept_conflicts: bool, json: bool) -> anyhow::Result<()> {
    // Opening a SQLite path creates the file: a mistyped name must not become an empty town.
    if !town.is_file() {
        anyhow::bail!("找不到镇的数据库文件：{}", town.display());
    }
    let town_text = town.display().to_string();
    if engine_of(&town_text) == Engine::Postgres {
        anyhow::bail!("镇的数据库应当是 SQLite 文件");
    }
    if engine_of(into) == Engine::Sqlite && Path::new(taizhang_storage::backend::sqlite_file(into)) == town {
        anyhow::bail!("镇的数据库和县库是同一个文件");
    }
    let source = Db::open(&town_text).await.with_context(|| format!("打开镇的数据库 {town_text}"))?;
    // The county is opened as every command opens it (its built-in definitions current), so a
    // dry run compares the town's definitions with the same ones the merge will.
    let ctx = Ctx::open(into, as_user).await.context("打开县库")?;
    // Merging writes every town's data into the county: the console operator's work, or a
    // county-level 系统管理员's.
    if let Actor::User { role, place_id, .. } = &ctx.actor {
        let mut tx = ctx.db.read().await?;
        let place = places::get(&mut tx, *place_id).await?;
        if *role != Role::Admin || place.level != PlaceLevel::County {
            anyhow::bail!("只有控制台操作员或县级系统管理员可以把镇的数据并入县库");
        }
    }
    eprintln!("正在{}「{}」并入县库……", if dry_run { "试运行：把" } else { "把" }, town.display());
    let report = merge::merge(&source, &ctx.db, &ctx.actor, Options { dry_run, accept_conflicts }).await?;
    if json {
        print_json(&report)?;
    } else {
        println!("{}（{}）→ {}{}", report.town, report.code, report.county, if dry_run { "（试运行）" } else { "" });
        for k in &report.kinds {
            println!("  {}：{}", k.label, k.counts.text());
        }
        if !report.conflicts.is_empty() {
            println!("冲突（{} 处）：", report.conflicts.len());
            list(&report.conflicts);
        }
        if !report.not_merged.is_empty() {
            println!("未合并：");
            list(&report.not_merged);
        }
    }
    if report.refused {
        anyhow::bail!("{}", report.summary());
    }
    if !json {
        println!("{}", report.summary());
    }
    Ok(())
}

/// The lines of a list, the first `SHOWN`: a town merged twice under two codes conflicts on
/// every person, which nobody reads in full on a console.
fn list(lines: &[String]) {
    const SHOWN: usize = 50;
    for l in lines.iter().take(SHOWN) {
        println!("  - {l}");
    }
    if lines.len() > SHOWN {
        println!("  ……另有 {} 条（加 --json 可看全部）", lines.len() - SHOWN);
    }
}
