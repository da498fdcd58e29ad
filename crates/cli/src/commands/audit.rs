//! `taizhang audit verify`: the audit trail's hash chain recomputed from the first entry.

use taizhang_storage::audit;

use super::print_json;
use crate::context::Ctx;

/// Prints how many entries the chain covers and its head, or the first break, which is then
/// the command's error (a non-zero exit status, for a scheduled check).
pub async fn verify(ctx: &Ctx, json: bool) -> anyhow::Result<()> {
    let mut tx = ctx.db.read().await?;
    let check = audit::verify(&mut tx).await?;
    drop(tx);
    if json {
        print_json(&check)?;
    }
    match &check.broken {
        None => {
            if !json {
                let oldest = check.oldest.as_deref().map(|t| format!("，最早一条记于 {}", t.get(..10).unwrap_or(t))).unwrap_or_default();
                println!("操作日志完整：共 {} 条，哈希链自第一条至第 {} 条没有断裂{oldest}。", check.checked, check.head_id);
                println!("链头哈希：{}（可抄录留存，日后核对链头未被整体重写）", check.head_hash);
            }
            Ok(())
        }
        Some(b) => {
            if !json && check.checked > 0 {
                println!("前 {} 条完好。", check.checked);
            }
            anyhow::bail!("操作日志的哈希链在第 {} 条处断裂：{}", b.id, b.reason)
        }
    }
}
