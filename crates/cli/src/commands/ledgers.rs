//! `ledgers`, `ledger define`, `ledger show`.

use serde_json::json;
use taizhang_domain::ledger::LedgerDef;

use super::print_json;
use crate::args::LedgerCmd;
use crate::context::Ctx;

/// The shape `ledgers --json` promises: key, name, fields, and workflow where there is one.
fn summary(d: &LedgerDef) -> serde_json::Value {
    json!({
        "key": d.key,
        "name": d.name,
        "group": d.group,
        "subject": d.subject,
        "time": d.time,
        "natural_key": d.natural_key,
        "fields": d.fields,
        "workflow": d.workflow,
    })
}

pub async fn list(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let mut tx = ctx.db.read().await?;
    let defs = taizhang_storage::ledgers::all(&mut tx).await?;
    if json {
        return print_json(&defs.iter().map(summary).collect::<Vec<_>>());
    }
    for d in &defs {
        let fields: Vec<String> = d
            .active_fields()
            .map(|f| format!("{}{}", f.label, if f.required { "*" } else { "" }))
            .collect();
        let wf = d.workflow.as_ref().map(|w| format!("；流程：{}", w.states.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join("→"))).unwrap_or_default();
        println!("[{}] {}（{}）：{}{wf}", d.group, d.name, d.key, fields.join("、"));
    }
    println!("共 {} 个台账", defs.len());
    Ok(())
}

pub async fn ledger(ctx: &Ctx, cmd: LedgerCmd) -> anyhow::Result<()> {
    match cmd {
        LedgerCmd::Define { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("无法读取 {file}：{e}"))?;
            let def = LedgerDef::from_toml(&text)?;
            let mut tx = ctx.db.begin().await?;
            let saved = taizhang_storage::ledgers::define(&mut tx, &ctx.actor, &def).await?;
            tx.commit().await?;
            let retired: Vec<&str> = saved.fields.iter().filter(|f| f.retired).map(|f| f.label.as_str()).collect();
            println!(
                "台账「{}」（{}）已保存：{} 个字段在用{}",
                saved.name,
                saved.key,
                saved.active_fields().count(),
                if retired.is_empty() { String::new() } else { format!("，已停用（数据保留）：{}", retired.join("、")) }
            );
        }
        LedgerCmd::Show { key, json } => {
            let mut tx = ctx.db.read().await?;
            let d = taizhang_storage::ledgers::get(&mut tx, &key).await?;
            if json {
                return print_json(&d);
            }
            println!("{}（{}）  分组：{}  记录对象：{}", d.name, d.key, d.group, d.subject.label());
            for f in &d.fields {
                println!(
                    "  {}\t{}\t{}{}{}",
                    f.key,
                    f.label,
                    f.kind.label(),
                    if f.required { "，必填" } else { "" },
                    if f.retired { "，已停用" } else { "" }
                );
            }
        }
    }
    Ok(())
}
