//! What a report should not assert without saying so. A figure whose ledger holds no record
//! for the period and place is a zero (or a "无") that rests on nothing — the ledger may simply
//! not be kept in the system yet; a clause the template left out because its figures were zero
//! (`has`) is a sentence the reader will not see; a "无…" (`nothing`) on an empty ledger is a claim
//! without ground; a comparison with the year before (`yoy`) whose ledger held nothing then
//! compares with nothing. `report` lists these after writing the file, the preview page above
//! the report, and `report --strict` fails on them.

use std::collections::{BTreeMap, BTreeSet};

use taizhang_domain::ledger::LedgerDef;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::Tx;

use crate::error::Result;
use crate::eval::Context;
use crate::render::ReportData;

/// Every warning about a rendered report, in Chinese for the clerk: the ledgers with no record
/// in the period, then the clauses left out, the 无 without ground and the comparisons with an
/// empty year before.
pub async fn of_report(tx: &mut Tx, ledgers: &[LedgerDef], ctx: &Context, data: &ReportData) -> Result<Vec<String>> {
    let mut empty = BTreeSet::new();
    let mut out = Vec::new();
    let mut by_ledger: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in data.figures.values() {
        let names = by_ledger.entry(f.ledger.as_str()).or_default();
        // A form's `<ledger>_records` indicator only asks whether the ledger was kept (未登记);
        // it is no figure of the report.
        if f.key != format!("{}_records", f.ledger) {
            names.push(f.name.as_str());
        }
    }
    for (key, names) in by_ledger {
        let Some(def) = ledgers.iter().find(|d| d.key == key) else { continue };
        if is_empty(tx, def, ctx).await? {
            empty.insert(key.to_string());
            out.push(if names.is_empty() {
                format!("「{}」在{}没有记录：依据它的数写作“未登记”", def.name, ctx.period.label)
            } else {
                format!("「{}」在{}没有记录：报告中的{}没有依据，是 0 或“无”只因为没有登记，请核实或删去相关句子", def.name, ctx.period.label, shown(&names))
            });
        }
    }
    let said = data.said_now();
    let names_of = |keys: &BTreeSet<String>, skip: &dyn Fn(&str) -> bool| -> Vec<&str> {
        keys.iter().filter_map(|k| data.figures.get(k)).filter(|f| !skip(&f.ledger)).map(|f| f.name.as_str()).collect()
    };
    let omitted = names_of(&said.omitted, &|l| empty.contains(l));
    if !omitted.is_empty() {
        out.push(format!("以下数字在{}为 0，相关句子没有写：「{}」；如本该有数，请核实台账", ctx.period.label, omitted.join("」「")));
    }
    for f in said.denied.iter().filter_map(|k| data.figures.get(k)).filter(|f| empty.contains(&f.ledger)) {
        out.push(format!("报告写了“无”（「{}」为 0），但「{}」在{}没有任何记录，这个“无”没有依据", f.name, f.ledger_name, ctx.period.label));
    }
    let before = ctx.year_before();
    let mut checked = BTreeSet::new();
    for f in said.compared.iter().filter_map(|k| data.figures.get(k)) {
        let Some(def) = ledgers.iter().find(|d| d.key == f.ledger) else { continue };
        if checked.insert(def.key.as_str()) && is_empty(tx, def, &before).await? {
            out.push(format!("「{}」与上年比较，但「{}」在{}没有记录，比较没有依据", f.name, def.name, before.period.label));
        }
    }
    Ok(out)
}

/// The ledgers a report's figures rest on that have no record in the period within the
/// scope (one warning each) — the part of [`of_report`] a county form needs.
pub async fn empty_ledgers(tx: &mut Tx, ledgers: &[LedgerDef], ctx: &Context, data: &ReportData) -> Result<Vec<String>> {
    of_report(tx, ledgers, ctx, &ReportData { said: Default::default(), ..data.clone() }).await
}

async fn is_empty(tx: &mut Tx, def: &LedgerDef, ctx: &Context) -> Result<bool> {
    let q = RecordQuery { period: Some(ctx.period.clone()), ..Default::default() };
    Ok(!records::any(tx, def, &ctx.scope, &q).await?)
}

/// Up to three names quoted, and how many there are in all when more.
fn shown(names: &[&str]) -> String {
    let first: String = names.iter().take(3).map(|n| format!("「{n}」")).collect();
    if names.len() > 3 { format!("{first}等 {} 项", names.len()) } else { first }
}
