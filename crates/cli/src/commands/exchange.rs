//! `import`, `export` and `template`: Excel and CSV in and out.

use std::path::Path;

use taizhang_exchange::{export_ledger, import_file, write_ledger_template, write_registry_template, ExportQuery, ImportOptions, RegistryTarget};

use crate::args::PeriodArgs;
use crate::context::Ctx;

/// Imports each file in its own transaction; fails (non-zero exit) if any row of any file
/// was rejected, after printing every rejection and writing the error workbooks.
pub async fn import(ctx: &Ctx, files: Vec<String>, ledger: Option<String>, dry_run: bool, partial: bool) -> anyhow::Result<()> {
    if files.is_empty() {
        anyhow::bail!("请指定要导入的文件");
    }
    let opts = ImportOptions { ledger, dry_run, partial, progress: true, source_name: None };
    let mut failed = 0usize;
    for file in &files {
        let report = import_file(&ctx.db, &ctx.actor, &ctx.scope, Path::new(file), &opts, ctx.today).await?;
        println!("{}（工作表「{}」→「{}」）", file, report.sheet, report.target_name);
        for w in &report.warnings {
            println!("  注意：{w}");
        }
        for r in &report.rejections {
            println!("  {}\t第 {} 行\t{}\t{}\t{}", r.sheet, r.row, r.column, r.value, r.reason);
        }
        println!("{}", report.summary());
        if let Some(p) = &report.error_workbook {
            println!("错误清单已写入 {}", p.display());
        }
        if dry_run {
            println!("试导入（--dry-run）：没有写入任何数据");
        } else if report.rejected > 0 && !report.committed {
            println!("有行被拒绝，整个文件未导入（可改正后重新导入，或用 --partial 只导入正确的行）");
        } else if report.rejected > 0 {
            println!("已导入正确的行；被拒绝的 {} 行未导入", report.rejected);
        }
        if report.rejected > 0 {
            failed += 1;
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} 个文件中有被拒绝的行");
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
