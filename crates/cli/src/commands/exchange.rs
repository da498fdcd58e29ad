//! `import`, `export` and `template`: Excel and CSV in and out.

use std::path::{Path, PathBuf};

use taizhang_exchange::{export_records, import_files, write_ledger_template, write_registry_template, ExportQuery, ImportOptions, RegistryTarget};

use crate::args::PeriodArgs;
use crate::context::Ctx;

/// What `import` was asked besides the files.
pub struct ImportArgs {
    pub ledger: Option<String>,
    pub dry_run: bool,
    pub partial: bool,
    pub sheet: Option<String>,
    pub set: Vec<String>,
}

/// `列名=值` as given to `--set`.
fn parse_set(set: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    set.iter()
        .map(|s| match s.split_once(['=', '＝']) {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
            _ => anyhow::bail!("--set 的写法是 列名=值，如 --set 发放月份=2024-02（这里是「{s}」）"),
        })
        .collect()
}

/// Imports the files in one transaction: each file's outcome is printed; by default nothing
/// is written unless every file imports cleanly; with `--partial` the good rows of the files
/// that could be read are written, and each file says what was. Fails (non-zero exit) if any
/// file failed or any row was refused.
pub async fn import(ctx: &Ctx, files: Vec<String>, args: ImportArgs) -> anyhow::Result<()> {
    if files.is_empty() {
        anyhow::bail!("请指定要导入的文件");
    }
    let opts = ImportOptions {
        ledger: args.ledger,
        dry_run: args.dry_run,
        partial: args.partial,
        progress: true,
        source_name: None,
        sheet: args.sheet,
        set: parse_set(&args.set)?,
        // A file given at the command line is read under the reader's default limits.
        limits: None,
    };
    let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    let outcomes = import_files(&ctx.db, &ctx.actor, &ctx.scope, &paths, &opts, ctx.today).await?;
    let several = outcomes.len() > 1;
    let (mut failed, mut with_rejections) = (0usize, 0usize);
    for o in &outcomes {
        let file = o.file.display();
        let report = match &o.result {
            Ok(r) => r,
            Err(e) if !several => anyhow::bail!("{e}"),
            Err(e) => {
                failed += 1;
                println!("{file}：无法导入：{e}");
                continue;
            }
        };
        println!("{file}（工作表「{}」→「{}」）", report.sheet, report.target_name);
        for w in &report.warnings {
            println!("  注意：{w}");
        }
        for r in &report.skipped_rows {
            println!("  跳过\t{}\t第 {} 行\t{}\t{}", r.sheet, r.row, r.kind, r.text);
        }
        for r in &report.rejections {
            println!("  {}\t第 {} 行\t{}\t{}\t{}", r.sheet, r.row, r.column, r.value, r.reason);
        }
        println!("{}", report.summary());
        if let Some(p) = &report.error_workbook {
            println!("错误清单已写入 {}", p.display());
        }
        if report.rejected > 0 {
            with_rejections += 1;
        }
        if several || args.partial {
            println!("{}", report.written());
        }
    }
    let committed = outcomes.iter().any(|o| o.result.as_ref().is_ok_and(|r| r.committed));
    if args.dry_run {
        println!("试导入（--dry-run）：没有写入任何数据");
    } else if (failed > 0 || with_rejections > 0) && !committed && !args.partial {
        if several {
            println!("有文件未能导入或有行被拒绝，这 {} 个文件都未导入（可改正后重新导入，或用 --partial 只导入正确的行和能读的文件）", outcomes.len());
        } else {
            println!("有行被拒绝，整个文件未导入（可改正后重新导入，或用 --partial 只导入正确的行）");
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} 个文件未能导入");
    }
    if with_rejections > 0 {
        anyhow::bail!("{with_rejections} 个文件中有被拒绝的行");
    }
    Ok(())
}

/// Exports a ledger's records (within scope, `--place`, `--year`/`--period`/`--as-of`).
pub async fn export(ctx: &Ctx, ledger: String, period: PeriodArgs, output: String) -> anyhow::Result<()> {
    let mut tx = ctx.db.read().await?;
    let (period, as_of, scope) = super::records::query_scope(&mut tx, ctx, &period).await?;
    // As whoever runs it (`--as`): a ledger they may not read is not there, marked values are
    // masked as on the pages, and the export leaves its read entry.
    let user = match &ctx.actor {
        taizhang_domain::role::Actor::User { id, .. } => Some(taizhang_storage::users::get(&mut tx, *id).await?),
        _ => None,
    };
    if let Some(u) = &user {
        let def = taizhang_storage::ledgers::all(&mut tx).await?.into_iter().find(|d| d.key == ledger.trim() || d.name == ledger.trim());
        if def.is_some_and(|d| !taizhang_domain::masking::may_read_ledger(u.role, &u.ledgers, &d)) {
            anyhow::bail!("没有台账「{}」（可用 ledgers 命令查看台账键和名称）", ledger.trim());
        }
    }
    drop(tx);
    let policy = taizhang_domain::masking::Policy::for_actor(&ctx.actor);
    let out = export_records(&ctx.db, &scope, &ledger, &ExportQuery { period, as_of, policy }, Path::new(&output), true).await?;
    if let Some(u) = &user {
        let mut tx = ctx.db.begin().await?;
        let def = taizhang_storage::ledgers::all(&mut tx).await?.into_iter().find(|d| d.key == ledger.trim() || d.name == ledger.trim());
        if let Some(def) = def.filter(taizhang_domain::masking::reads_audited) {
            let read = taizhang_storage::reads::Read {
                entity: def.table_name(),
                ids: out.ids.clone(),
                persons: out.persons.clone(),
                places: out.places.clone(),
                scope_place: Some(u.place_id),
                filter: format!("文件={output}"),
                what: "命令行导出".into(),
            };
            taizhang_storage::reads::note(&mut tx, &ctx.actor, &read).await?;
        }
        tx.commit().await?;
    }
    println!("已导出 {} 条记录到 {output}", out.rows);
    Ok(())
}

/// Writes a blank import template for a ledger, or for the registry (persons, households,
/// cadres, organisations, or their Chinese names).
pub async fn template(ctx: &Ctx, ledger: String, output: String) -> anyhow::Result<()> {
    match RegistryTarget::parse(&ledger) {
        Some(t) => write_registry_template(t, Path::new(&output))?,
        None => write_ledger_template(&ctx.db, &ledger, Path::new(&output)).await?,
    }
    println!("已生成导入模板 {output}");
    Ok(())
}
