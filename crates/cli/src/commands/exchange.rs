//! `import`, `export` and `template`: Excel and CSV in and out.

use std::path::{Path, PathBuf};

use taizhang_exchange::{export_ledger, import_files, write_ledger_template, write_registry_template, ExportQuery, ImportOptions, RegistryTarget};

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
    drop(tx);
    let n = export_ledger(&ctx.db, &scope, &ledger, &ExportQuery { period, as_of }, Path::new(&output), true).await?;
    println!("已导出 {n} 条记录到 {output}");
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
