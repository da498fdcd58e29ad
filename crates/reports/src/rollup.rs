//! The roll-up: every indicator in every place of a level (each town of a county, each
//! village of a town).
//!
//! Indicator by indicator, a county's roll-up reads its big ledgers once per indicator (19.5 M
//! rows for the 4.7 M records of the demo county). Here the indicators of one ledger share one
//! scan: each indicator's conditions become a flag column of that scan and its measure an
//! aggregate over the rows whose flag is set (`COUNT(DISTINCT CASE WHEN t.k3 THEN t.subject_id
//! END)`), grouped by the place of the level each record lies in. The figures are the same as
//! [`eval::by_level`]'s, exactly; the tests compare the two. Ledgers are spread over two read
//! connections, which on SQLite run on their own threads.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;
use taizhang_domain::ledger::{LedgerDef, SubjectKind};
use taizhang_domain::place::PlaceLevel;
use taizhang_storage::ledgers::quote;
use taizhang_storage::{places, Arg, Db, Tx};

use crate::error::{ReportError, Result};
use crate::eval::{self, Context, VillageFigure};
use crate::indicator::{IndicatorDef, Measure};

/// One indicator in each place of a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollup {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub scale: u8,
    pub places: Vec<VillageFigure>,
    /// The query that computes this indicator alone, parameters as `$n`, and the parameters as
    /// SQL literals: the figures' provenance, and what another engine can run to check them.
    pub sql: String,
    pub args: Vec<String>,
}

/// Every indicator in each place of `level` within the scope, in the order of `inds`, on two
/// read connections of `db`.
pub async fn rollup(db: &Db, inds: &[IndicatorDef], ledgers: &[LedgerDef], ctx: &Context, level: PlaceLevel) -> Result<Vec<Rollup>> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, ind) in inds.iter().enumerate() {
        groups.entry(ind.ledger.as_str()).or_default().push(i);
    }
    // Largest ledgers first (the highest id as a cheap measure of size), taken by whichever
    // connection is free: a long scan on one runs beside many short ones on the other.
    let mut tx = db.read().await?;
    let places = places::of_level(&mut tx, &ctx.scope, level).await?;
    let mut sized = Vec::new();
    for (ledger, members) in groups {
        let def = ledgers
            .iter()
            .find(|l| l.key == ledger)
            .ok_or_else(|| ReportError::Definition(format!("指标「{}」引用了不存在的台账「{ledger}」", inds[members[0]].key)))?;
        let size = tx.fetch_one(&format!("SELECT COALESCE(MAX(id), 0) FROM {}", def.table_name()), &[]).await?.int(0);
        sized.push((size, def, members));
    }
    sized.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.key.cmp(&b.1.key)));
    let queue = Mutex::new(sized.into_iter().map(|(_, def, members)| (def, members)).collect::<VecDeque<_>>());
    let mut tx2 = db.read().await?;
    let (a, b) = tokio::join!(run_ledgers(&mut tx, inds, &queue, ctx, level), run_ledgers(&mut tx2, inds, &queue, ctx, level));
    let mut values: BTreeMap<usize, (BTreeMap<i64, i64>, eval::GroupedSql, u8)> = a?.into_iter().chain(b?).collect();
    let engine = tx.engine();
    inds.iter()
        .enumerate()
        .map(|(i, ind)| {
            let (vals, q, scale) = values.remove(&i).ok_or_else(|| ReportError::Definition(format!("指标「{}」未计算", ind.key)))?;
            Ok(Rollup {
                key: ind.key.clone(),
                name: ind.name.clone(),
                unit: ind.unit.clone(),
                scale,
                places: eval::place_values(&places, &vals),
                sql: q.sql,
                args: q.args.iter().map(|a| eval::literal(engine, a)).collect(),
            })
        })
        .collect()
}

type Computed = Vec<(usize, (BTreeMap<i64, i64>, eval::GroupedSql, u8))>;

/// Ledgers taken from the queue until it is empty, one fused scan each (a streak alone, by its
/// own query).
async fn run_ledgers(
    tx: &mut Tx,
    inds: &[IndicatorDef],
    queue: &Mutex<VecDeque<(&LedgerDef, Vec<usize>)>>,
    ctx: &Context,
    level: PlaceLevel,
) -> Result<Computed> {
    let mut out = Vec::new();
    loop {
        let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front();
        let Some((def, members)) = next else { break };
        let mut fused = Vec::new();
        for &i in &members {
            let ind = &inds[i];
            let m = ind.measure()?;
            let q = eval::grouped_sql(tx, ind, def, ctx, level)?;
            if q.streak {
                let vals = eval::run_grouped(tx, &q).await?;
                out.push((i, (vals, q, m.scale(def))));
            } else {
                fused.push((i, m, q));
            }
        }
        if fused.is_empty() {
            continue;
        }
        let list: Vec<(&IndicatorDef, &Measure)> = fused.iter().map(|(i, m, _)| (&inds[*i], m)).collect();
        let values = scan(tx, def, &list, ctx, level).await?;
        for ((i, m, q), vals) in fused.into_iter().zip(values) {
            out.push((i, (vals, q, m.scale(def))));
        }
    }
    Ok(out)
}

/// `$n` → `$(n + delta)` in SQL whose only `$` are placeholders.
fn renumber(sql: &str, delta: i64) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '$' {
            let mut n = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            match n.parse::<i64>() {
                Ok(k) => out.push_str(&(k + delta).to_string()),
                Err(_) => out.push_str(&n),
            }
        }
    }
    out
}

/// One scan of a ledger computing several indicators by place: for each, its values by place id.
async fn scan(tx: &mut Tx, def: &LedgerDef, inds: &[(&IndicatorDef, &Measure)], ctx: &Context, level: PlaceLevel) -> Result<Vec<BTreeMap<i64, i64>>> {
    let engine = tx.engine();
    let scope_cond = ctx.scope.condition("place_id", 1);
    // `$1` is the scope, applied once through the place map instead of in every condition.
    let mut args: Vec<Arg> = vec![ctx.scope.arg()];
    // Indicators under the same conditions (a count and a sum of the same records) share a flag.
    let mut conds: Vec<(String, Vec<Arg>)> = Vec::new();
    let mut flags = Vec::new();
    let mut aggs = Vec::new();
    let (mut persons, mut villages) = (false, false);
    for (ind, m) in inds {
        let sel = eval::select(engine, ind, def, ctx)?;
        let rest = sel
            .cond
            .strip_prefix(&scope_cond)
            .map(|r| r.strip_prefix(" AND ").unwrap_or(r))
            .ok_or_else(|| ReportError::Definition(format!("指标「{}」的条件不以地点范围开头", ind.key)))?;
        let own: Vec<Arg> = sel.args.into_iter().skip(1).collect();
        let k = match conds.iter().position(|(c, a)| c == rest && *a == own) {
            Some(k) => k,
            None => {
                let offset = i64::try_from(args.len()).unwrap_or(0) - 1;
                let cond = if rest.is_empty() { "1 = 1".to_string() } else { renumber(rest, offset) };
                flags.push(format!("({cond}) AS k{}", conds.len()));
                args.extend(own.iter().cloned());
                conds.push((rest.to_string(), own));
                conds.len() - 1
            }
        };
        let when = |expr: &str| format!("CASE WHEN t.k{k} THEN {expr} END");
        match m {
            Measure::Count => aggs.push(format!("COUNT({})", when("1"))),
            Measure::DistinctSubject => aggs.push(format!("COUNT(DISTINCT {})", when("t.subject_id"))),
            Measure::DistinctHouseholds if def.subject == SubjectKind::Person => {
                persons = true;
                aggs.push(format!(
                    "COUNT(DISTINCT {})",
                    when("(CASE WHEN p.household_id IS NULL THEN -t.subject_id ELSE p.household_id END)")
                ));
            }
            Measure::DistinctHouseholds => aggs.push(format!("COUNT(DISTINCT {})", when("t.subject_id"))),
            Measure::DistinctField(f) => aggs.push(format!("COUNT(DISTINCT {})", when(&format!("t.{}", quote(f))))),
            Measure::Villages => {
                villages = true;
                aggs.push(format!("COUNT(DISTINCT {})", when("v.id")));
            }
            Measure::Sum(f) => aggs.push(tx.sum_int(&when(&format!("t.{}", quote(f))))),
            Measure::Avg(f) => {
                let col = when(&format!("t.{}", quote(f)));
                aggs.push(tx.sum_int(&col));
                aggs.push(format!("COUNT({col})"));
            }
            Measure::ConsecutiveYears(_) => return Err(ReportError::Definition(format!("指标「{}」：连续年数不能合并计算", ind.key))),
        }
    }
    let any: Vec<String> = (0..conds.len()).map(|k| format!("k{k}")).collect();
    // The scope (`$1`) limits the place map, so the records need no condition of their own.
    let map = eval::place_map_cte("group_of", level, " WHERE p.path LIKE $1");
    let mut sql = format!("WITH {}", map.trim_start_matches(", "));
    if villages {
        sql.push_str(eval::VILLAGE_CTE);
    }
    sql.push_str(&format!(
        " SELECT g.id, {} FROM (SELECT *, {} FROM {}) t JOIN group_of g ON g.pid = t.place_id",
        aggs.join(", "),
        flags.join(", "),
        def.table_name()
    ));
    if persons {
        sql.push_str(" LEFT JOIN persons p ON p.id = t.subject_id");
    }
    if villages {
        sql.push_str(" LEFT JOIN village_of v ON v.pid = t.place_id");
    }
    sql.push_str(&format!(" WHERE {} GROUP BY g.id", any.iter().map(|k| format!("t.{k}")).collect::<Vec<_>>().join(" OR ")));
    let rows = tx.fetch(&sql, &args).await?;
    let mut out = vec![BTreeMap::new(); inds.len()];
    for r in &rows {
        let place = r.int(0);
        let mut col = 1;
        for (k, (_, m)) in inds.iter().enumerate() {
            let value = if matches!(m, Measure::Avg(_)) {
                col += 2;
                eval::finish(r.int(col - 2), Some(r.int(col - 1)))
            } else {
                col += 1;
                r.int(col - 1)
            };
            if value != 0 {
                out[k].insert(place, value);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::renumber;

    #[test]
    fn placeholders_move_by_the_offset() {
        assert_eq!(renumber("a = $2 AND b IN ($3, $10)", 5), "a = $7 AND b IN ($8, $15)");
        assert_eq!(renumber("x >= $2", -1), "x >= $1");
        assert_eq!(renumber("no placeholders", 3), "no placeholders");
    }
}
