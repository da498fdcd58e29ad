//! What a report should not assert without saying so: a figure whose ledger holds no record
//! for the period and place is a zero (or a "无") that rests on nothing — the ledger may simply
//! not be kept in the system yet. `report` lists these after writing the file, the preview page
//! above the report, and `report --strict` fails on them.

use std::collections::BTreeMap;

use taizhang_domain::ledger::LedgerDef;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::Tx;

use crate::error::Result;
use crate::eval::Context;
use crate::render::ReportData;

/// One warning per ledger the report's figures rest on that has no record in the period
/// within the scope, naming the figures (in Chinese, for the clerk).
pub async fn empty_ledgers(tx: &mut Tx, ledgers: &[LedgerDef], ctx: &Context, data: &ReportData) -> Result<Vec<String>> {
    let mut by_ledger: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in data.figures.values() {
        by_ledger.entry(f.ledger.as_str()).or_default().push(f.name.as_str());
    }
    let mut out = Vec::new();
    for (key, names) in by_ledger {
        let Some(def) = ledgers.iter().find(|d| d.key == key) else { continue };
        let q = RecordQuery { period: Some(ctx.period.clone()), ..Default::default() };
        if records::count(tx, def, &ctx.scope, &q).await? == 0 {
            let shown: Vec<&str> = names.iter().take(3).copied().collect();
            let more = if names.len() > shown.len() { format!("等 {} 项", names.len()) } else { String::new() };
            out.push(format!(
                "「{}」在{}没有记录：报告中的「{}」{more}没有依据，是 0 或“无”只因为没有登记，请核实或删去相关句子",
                def.name,
                ctx.period.label,
                shown.join("」「")
            ));
        }
    }
    Ok(out)
}
