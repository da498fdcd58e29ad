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
use taizhang_storage::{places, Arg, Db, Engine, Tx};

use crate::conjuncts::{self, Conjunct};
use crate::error::{ReportError, Result};
use crate::eval::{self, Context, VillageFigure};
use crate::indicator::{IndicatorDef, Measure};
use crate::stored::{Entry, Member, Store};

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
/// read connections of `db`. On SQLite, figures stored by an earlier run are used for the
/// places whose records have not changed since (`stored`), and the rest are stored for the next.
pub async fn rollup(db: &Db, inds: &[IndicatorDef], ledgers: &[LedgerDef], ctx: &Context, level: PlaceLevel) -> Result<Vec<Rollup>> {
    rollup_with(db, inds, ledgers, ctx, level, true).await
}

/// [`rollup`], with `reuse = false` computing every figure from the records (and storing it),
/// for whoever wants to see the figures recomputed.
pub async fn rollup_with(db: &Db, inds: &[IndicatorDef], ledgers: &[LedgerDef], ctx: &Context, level: PlaceLevel, reuse: bool) -> Result<Vec<Rollup>> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, ind) in inds.iter().enumerate() {
        groups.entry(ind.ledger.as_str()).or_default().push(i);
    }
    let mut tx = db.read().await?;
    let places = places::of_level(&mut tx, &ctx.scope, level).await?;
    // Before any record is read: the counts must not be newer than the figures computed below.
    let mut store = Store::load(&mut tx, ctx, level).await?;
    if !reuse {
        store.iter_mut().for_each(Store::forget);
    }
    let all: Vec<i64> = places.iter().map(|p| p.id).collect();
    // A scope holding a small part of the places (one town of a county, one county of two) is
    // read through the place index; whole tables only for a scope holding most of them.
    let narrow = !places::holds_most(&mut tx, &ctx.scope).await?;
    let mut values: Vec<BTreeMap<i64, i64>> = vec![BTreeMap::new(); inds.len()];
    let mut queries: Vec<Option<(eval::GroupedSql, u8)>> = vec![None; inds.len()];
    let mut work = Vec::new();
    for (ledger, members) in groups {
        let def = ledgers
            .iter()
            .find(|l| l.key == ledger)
            .ok_or_else(|| ReportError::Definition(format!("指标「{}」引用了不存在的台账「{ledger}」", inds[members[0]].key)))?;
        let mut job = Vec::new();
        for &i in &members {
            let m = inds[i].measure()?;
            let q = eval::grouped_sql(&tx, &inds[i], def, ctx, level)?;
            queries[i] = Some((q.clone(), m.scale(def)));
            job.push((i, m, q));
        }
        let measured = store_members(inds, &job);
        let (only, digest) = match &store {
            Some(s) => {
                let split = s.split(def, &measured, &all);
                for (g, figures) in &split.fresh {
                    for ((i, _, _), v) in job.iter().zip(figures) {
                        if *v != 0 {
                            values[*i].insert(*g, *v);
                        }
                    }
                }
                if split.stale.is_empty() {
                    continue;
                }
                let only = (narrow || split.stale.len() < all.len()).then_some(split.stale);
                (only, s.keeps(def).then_some(split.digest))
            }
            // PostgreSQL: no stored figures, every place computed.
            None => (narrow.then(|| all.clone()), None),
        };
        // The highest id is a cheap measure of a ledger's size.
        let size = tx.fetch_one(&format!("SELECT COALESCE(MAX(id), 0) FROM {}", def.table_name()), &[]).await?.int(0);
        work.push(Work { size, def, job, only, digest });
    }
    // Largest ledgers first, taken by whichever connection is free: a long scan on one runs
    // beside many short ones on the other.
    work.sort_by(|a, b| b.size.cmp(&a.size).then(a.def.key.cmp(&b.def.key)));
    let queue = Mutex::new(work.iter().collect::<VecDeque<_>>());
    let mut tx2 = db.read().await?;
    let (a, b) = tokio::join!(run_ledgers(&mut tx, inds, &queue, ctx, level), run_ledgers(&mut tx2, inds, &queue, ctx, level));
    drop((tx, tx2));
    for (i, vals) in a?.into_iter().chain(b?) {
        values[i].extend(vals);
    }
    if let Some(s) = &store {
        let mut entries = Vec::new();
        for w in &work {
            let Some(digest) = &w.digest else { continue };
            let measured = store_members(inds, &w.job);
            for &g in w.only.as_deref().unwrap_or(&all) {
                entries.push(Entry {
                    ledger: w.def.key.clone(),
                    digest: digest.clone(),
                    group: g,
                    fingerprint: s.fingerprint(w.def, &measured, g),
                    figures: w.job.iter().map(|(i, _, _)| values[*i].get(&g).copied().unwrap_or(0)).collect(),
                });
            }
        }
        s.save(db, &entries).await;
    }
    let engine = db.engine();
    inds.iter()
        .zip(values)
        .zip(queries)
        .map(|((ind, vals), q)| {
            let (q, scale) = q.ok_or_else(|| ReportError::Definition(format!("指标「{}」未计算", ind.key)))?;
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

/// A ledger's indicators as the store sees them.
fn store_members<'a>(inds: &'a [IndicatorDef], job: &'a [(usize, Measure, eval::GroupedSql)]) -> Vec<Member<'a>> {
    job.iter().map(|(i, m, q)| (&inds[*i], m, q)).collect()
}

/// Several indicators of one ledger in total over a scope that is one place (a town, a
/// village, a county) of `level`: one scan of the ledger's records under it, that place the
/// only group, instead of a query per indicator — a town's summary read out of a county
/// database asks some 160 totals, each paying for finding the town's records among the
/// county's (BENCHMARKS.md). The values are [`eval::evaluate`]'s: every record in the scope
/// lies under that place. A streak cannot share a scan: the caller evaluates it on its own.
pub(crate) async fn totals_at(
    tx: &mut Tx,
    def: &LedgerDef,
    inds: &[&IndicatorDef],
    ctx: &Context,
    level: PlaceLevel,
    place_id: i64,
) -> Result<Vec<i64>> {
    let measures = inds.iter().map(|i| i.measure()).collect::<Result<Vec<Measure>>>()?;
    let list: Vec<Item> = inds.iter().copied().zip(measures.iter()).map(|(i, m)| (i, m, ctx)).collect();
    let values = scan(tx, def, &list, ctx, level, Some(&[place_id]), false).await?;
    Ok(values.into_iter().map(|v| v.get(&place_id).copied().unwrap_or(0)).collect())
}

/// One indicator in several periods over the same scope (a chart's twelve months), in one scan
/// of the ledger's records in that scope instead of a query per period: on a county's
/// database each month's query found the county's records again (12 × 23 ms on PostgreSQL for
/// the monitoring chart; BENCHMARKS.md). The records read are only those some period counts.
/// The values are [`eval::evaluate`]'s; a streak, or a scope that is not one place (the whole
/// database), is evaluated period by period.
pub async fn over_periods(tx: &mut Tx, ind: &IndicatorDef, def: &LedgerDef, ctxs: &[Context]) -> Result<Vec<i64>> {
    let Some(first) = ctxs.first() else { return Ok(Vec::new()) };
    if ctxs.iter().any(|c| c.scope.path != first.scope.path) {
        return Err(ReportError::Definition(format!("指标「{}」：分期合并计算的各期地点范围必须相同", ind.key)));
    }
    let m = ind.measure()?;
    let place = if matches!(m, Measure::ConsecutiveYears(_)) {
        None
    } else {
        tx.fetch_opt("SELECT id, level FROM places WHERE path = $1", &[first.scope.path.clone().into()]).await?
    };
    let Some((place_id, level)) = place.and_then(|p| PlaceLevel::parse(&p.text(1)).map(|l| (p.int(0), l))) else {
        let mut out = Vec::with_capacity(ctxs.len());
        for c in ctxs {
            out.push(eval::evaluate(tx, ind, def, c).await?.value);
        }
        return Ok(out);
    };
    let list: Vec<Item> = ctxs.iter().map(|c| (ind, &m, c)).collect();
    let values = scan(tx, def, &list, first, level, Some(&[place_id]), true).await?;
    Ok(values.into_iter().map(|v| v.get(&place_id).copied().unwrap_or(0)).collect())
}

/// One ledger's indicators to compute, in all places of the level or `only` in some.
struct Work<'a> {
    size: i64,
    def: &'a LedgerDef,
    job: Vec<(usize, Measure, eval::GroupedSql)>,
    only: Option<Vec<i64>>,
    /// Set when the figures are to be stored.
    digest: Option<String>,
}

type Computed = Vec<(usize, BTreeMap<i64, i64>)>;

/// Ledgers taken from the queue until it is empty, one fused scan each (a streak alone, by its
/// own query).
async fn run_ledgers(tx: &mut Tx, inds: &[IndicatorDef], queue: &Mutex<VecDeque<&Work<'_>>>, ctx: &Context, level: PlaceLevel) -> Result<Computed> {
    let mut out = Vec::new();
    loop {
        let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front();
        let Some(w) = next else { break };
        let only = w.only.as_deref();
        let mut fused = Vec::new();
        for (i, m, q) in &w.job {
            if q.streak {
                let mut vals = eval::run_grouped(tx, q).await?;
                if let Some(only) = only {
                    vals.retain(|g, _| only.contains(g));
                }
                out.push((*i, vals));
            } else {
                fused.push((*i, m));
            }
        }
        if fused.is_empty() {
            continue;
        }
        let list: Vec<Item> = fused.iter().map(|(i, m)| (&inds[*i], *m, ctx)).collect();
        let values = scan(tx, w.def, &list, ctx, level, only, false).await?;
        for ((i, _), vals) in fused.into_iter().zip(values) {
            out.push((i, vals));
        }
    }
    Ok(out)
}

/// An indicator to compute in a scan, its measure, and the context (period) it is computed in;
/// every item of a scan shares the scan's scope.
type Item<'a> = (&'a IndicatorDef, &'a Measure, &'a Context);

/// One scan of a ledger computing several indicators by place: for each, its values by place id.
/// With `only`, just the records under those places of the level, through the place index;
/// without, every record of the table (on SQLite, never through an index). `ctx` gives the
/// scope. With `restrict`, only records some item counts are read (their conditions OR-ed),
/// for items whose periods lie apart: the engine may then find them by a date index.
async fn scan(
    tx: &mut Tx,
    def: &LedgerDef,
    inds: &[Item<'_>],
    ctx: &Context,
    level: PlaceLevel,
    only: Option<&[i64]>,
    restrict: bool,
) -> Result<Vec<BTreeMap<i64, i64>>> {
    let engine = tx.engine();
    let scope_cond = ctx.scope.condition("place_id", 1);
    // Indicators under the same conditions (a count and a sum of the same records) share a flag.
    let mut conds: Vec<Vec<Conjunct>> = Vec::new();
    let mut aggs = Vec::new();
    // The columns the aggregates and joins read.
    let mut columns = vec!["place_id".to_string(), "subject_id".to_string()];
    let (mut persons, mut villages) = (false, false);
    for (ind, m, item_ctx) in inds {
        let sel = eval::select(engine, ind, def, item_ctx)?;
        let rest = sel
            .cond
            .strip_prefix(&scope_cond)
            .map(|r| r.strip_prefix(" AND ").unwrap_or(r))
            .ok_or_else(|| ReportError::Definition(format!("指标「{}」的条件不以地点范围开头", ind.key)))?;
        // `$1` is the scope, applied once through the place map instead of in every condition.
        let own = conjuncts::split(rest, sel.args.get(1..).unwrap_or_default(), 2)?;
        let k = match conds.iter().position(|c| *c == own) {
            Some(k) => k,
            None => {
                conds.push(own);
                conds.len() - 1
            }
        };
        if let Measure::Sum(f) | Measure::Avg(f) | Measure::DistinctField(f) = m {
            if !columns.contains(&quote(f)) {
                columns.push(quote(f));
            }
        }
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
    // Every record is read either way: without `NOT INDEXED`, SQLite answers the flags' OR
    // with one pass over the date index per flag and a row lookup per hit (MULTI-INDEX OR),
    // three to five times slower than reading the table once (BENCHMARKS.md).
    let whole = only.is_none();
    // Conditions every flag shares (the period, mostly) are tested once per record, before
    // the flags, instead of once in each flag (BENCHMARKS.md). Only where the table is read
    // whole: in a condition of its own a date range could draw SQLite away from the place index.
    let common = if whole { conjuncts::shared(&conds) } else { Vec::new() };
    let mut args: Vec<Arg> = vec![ctx.scope.arg()];
    let mut shared_sql: Vec<String> = common.iter().map(|c| c.render(&mut args)).collect();
    let flags: Vec<String> = conds
        .iter()
        .enumerate()
        .map(|(k, list)| {
            let own: Vec<String> = list.iter().filter(|c| !common.contains(c)).map(|c| c.render(&mut args)).collect();
            let cond = if own.is_empty() { "1 = 1".to_string() } else { own.join(" AND ") };
            format!("({cond}) AS k{k}")
        })
        .collect();
    if restrict && conds.iter().all(|list| list.iter().any(|c| !common.contains(c))) {
        let each: Vec<String> = conds
            .iter()
            .map(|list| format!("({})", list.iter().filter(|c| !common.contains(c)).map(|c| c.render(&mut args)).collect::<Vec<_>>().join(" AND ")))
            .collect();
        shared_sql.push(format!("({})", each.join(" OR ")));
    }
    let any: Vec<String> = (0..conds.len()).map(|k| format!("k{k}")).collect();
    // The scope (`$1`) limits the place map, so the records need no condition of their own.
    let mut filter = " WHERE p.path LIKE $1".to_string();
    if let Some(ids) = only {
        // Ids of places read from the database, written as integer literals.
        filter.push_str(&format!(" AND vv.id IN ({})", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")));
    }
    let map = eval::place_map_cte("group_of", level, &filter);
    let mut sql = format!("WITH {}", map.trim_start_matches(", "));
    if villages {
        // The scope's places only: every record read lies in it (`$1`, as in the map).
        sql.push_str(eval::SCOPED_VILLAGE_CTE);
    }
    // SQLite reads only the columns the outer query uses, but PostgreSQL, like SQLite, folds
    // the subquery into it and then computes each flag wherever it is used (in the WHERE and
    // in every aggregate): `OFFSET 0` keeps the subquery whole, so each flag is computed once
    // per record, and it hands on only the columns read (BENCHMARKS.md).
    let postgres = engine == Engine::Postgres;
    let read = if postgres { columns.join(", ") } else { "*".to_string() };
    // On PostgreSQL a few places are joined inside the subquery: the planner takes the
    // materialised map for one row and, joined outside, would read the subquery again for each
    // of its rows (118 for a town); inside, their records are read once by the place index.
    let joined = postgres && only.is_some();
    let (group, from) = if joined {
        ("t.g_id", format!("{} JOIN (SELECT pid AS g_pid, id AS g_id FROM group_of) g ON g.g_pid = place_id", def.table_name()))
    } else {
        ("g.id", def.table_name())
    };
    let mut records = format!("(SELECT {read}{}, {} FROM {from}", if joined { ", g.g_id" } else { "" }, flags.join(", "));
    if whole && !postgres {
        records.push_str(" NOT INDEXED");
    }
    if !shared_sql.is_empty() {
        records.push_str(&format!(" WHERE {}", shared_sql.join(" AND ")));
    }
    if postgres {
        records.push_str(" OFFSET 0");
    }
    records.push_str(") t");
    let aggs = aggs.join(", ");
    sql.push_str(&if joined {
        format!(" SELECT {group}, {aggs} FROM {records}")
    } else if only.is_some() {
        // A few places: from the map to their records by the place index (CROSS JOIN keeps
        // SQLite's join order), instead of reading the whole table.
        format!(" SELECT {group}, {aggs} FROM group_of g CROSS JOIN {records} ON t.place_id = g.pid")
    } else {
        format!(" SELECT {group}, {aggs} FROM {records} JOIN group_of g ON g.pid = t.place_id")
    });
    if persons {
        sql.push_str(" LEFT JOIN persons p ON p.id = t.subject_id");
    }
    if villages {
        sql.push_str(" LEFT JOIN village_of v ON v.pid = t.place_id");
    }
    sql.push_str(&format!(" WHERE {} GROUP BY {group}", any.iter().map(|k| format!("t.{k}")).collect::<Vec<_>>().join(" OR ")));
    let rows = tx.fetch(&sql, &args).await?;
    let mut out = vec![BTreeMap::new(); inds.len()];
    for r in &rows {
        let place = r.int(0);
        let mut col = 1;
        for (k, (_, m, _)) in inds.iter().enumerate() {
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
