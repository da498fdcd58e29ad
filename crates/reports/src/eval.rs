//! Evaluating indicators with plain SQL on the ledger tables `ld_<key>`.
//!
//! The records an indicator takes are written once as a common table expression
//! `WITH t AS (SELECT * FROM ld_<key> WHERE …)`: storage's `where_clause` gives the scope and the
//! period or as-of day, the indicator's filters are appended. The measure is then taken over `t`,
//! in total or grouped by the village each record's place lies under.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use taizhang_domain::ledger::{FieldKind, LedgerDef, RefTarget, SubjectKind, TimeModel};
use taizhang_domain::period::Period;
use taizhang_domain::place::PlaceLevel;
use taizhang_domain::value::{Record, Value};
use taizhang_storage::ledgers::quote;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{places, settings, Arg, Engine, Scope, Tx};

use crate::error::{ReportError, Result};
use crate::indicator::{Filter, IndicatorDef, Measure, RelYear, TimeMode};

/// What a report is about: a period, an as-of day (for standing ledgers) and a place.
#[derive(Debug, Clone)]
pub struct Context {
    pub period: Period,
    pub as_of: NaiveDate,
    pub scope: Scope,
}

impl Context {
    /// A calendar year, as of its last day, over `scope`.
    pub fn year(year: i32, scope: Scope) -> Context {
        let period = Period::year(year);
        Context { as_of: period.end, period, scope }
    }

    /// A period as of `as_of` (without one: the period's end), but never after `today`: a
    /// check or a figure "as of" a day still to come would report what nobody can know yet
    /// (the current year's 31 December). A period wholly in the future is thus seen as of
    /// today, before it starts, and finds nothing.
    pub fn clamped(period: Period, as_of: Option<NaiveDate>, today: NaiveDate, scope: Scope) -> Context {
        let as_of = as_of.unwrap_or(period.end).min(today);
        Context { period, as_of, scope }
    }

    /// The part of the period up to the as-of day (`None` when that day is before the period
    /// starts): checks look at no record dated after the day they are run as of.
    pub fn period_to_as_of(&self) -> Option<Period> {
        if self.as_of < self.period.start {
            return None;
        }
        if self.as_of >= self.period.end {
            return Some(self.period.clone());
        }
        Some(Period { start: self.period.start, end: self.as_of, label: format!("{} 至 {}", self.period.start, self.as_of) })
    }

    /// The same span a year earlier, as of the same day a year earlier: what `yoy` compares
    /// with.
    pub fn year_before(&self) -> Context {
        let as_of = self.as_of.checked_sub_months(chrono::Months::new(12)).unwrap_or(self.as_of);
        Context { period: self.period.year_before(), as_of, scope: self.scope.clone() }
    }

    /// The year the report is about (the year of the period's end).
    pub fn report_year(&self) -> i32 {
        self.period.end.year()
    }

    /// The query string of an explain link, naming everything the figure was counted over so
    /// that the link opens the same figure: `year=2023` for a calendar year, else the period;
    /// the as-of day (`as_of=2023-12-31`, which a standing ledger is counted on); and the place
    /// as its path of ids (`place=/1/2/5/`, which the web and `--place` accept like a code,
    /// confined to the reader's scope), left out for the whole database (`/`). Without the
    /// place, a village's report would link to the town's figures.
    pub fn link_query(&self) -> String {
        let y = self.report_year();
        let mut query = if self.period == Period::year(y) {
            format!("year={y}")
        } else {
            format!("period={}..{}", self.period.start, self.period.end)
        };
        query.push_str(&format!("&as_of={}", self.as_of));
        if self.scope.path != "/" {
            query.push_str(&format!("&place={}", self.scope.path));
        }
        query
    }
}

/// One indicator's value with the conditions behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub ledger: String,
    pub ledger_name: String,
    pub measure: String,
    /// Decimal places of `value` (sums of decimal fields such as 亩), else 0.
    pub scale: u8,
    pub value: i64,
    pub target: Option<i64>,
    /// The conditions in readable Chinese.
    pub filters: Vec<String>,
    /// The SQL that counted it (parameters as `$n`).
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VillageFigure {
    pub place_id: i64,
    pub code: String,
    pub name: String,
    pub value: i64,
}

/// The records an indicator takes, as SQL.
pub(crate) struct Selection {
    /// `WITH t AS (SELECT * FROM ld_x WHERE …)`
    pub with: String,
    /// The conditions of that `WHERE`, the scope's first (parameter `$1`).
    pub cond: String,
    pub args: Vec<Arg>,
    pub readable: Vec<String>,
}

fn label_of(def: &LedgerDef, key: &str) -> String {
    def.field(key).map_or(key.to_string(), |f| f.label.clone())
}

fn state_label(def: &LedgerDef, key: &str) -> String {
    def.workflow
        .as_ref()
        .and_then(|w| w.states.iter().find(|s| s.key == key))
        .map_or(key.to_string(), |s| s.label.clone())
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn to_arg(def: &LedgerDef, field: &str, v: &toml::Value) -> Result<Arg> {
    let f = def
        .field(field)
        .ok_or_else(|| ReportError::Definition(format!("台账「{}」没有字段「{field}」", def.key)))?;
    let bad = || ReportError::Definition(format!("字段「{}」的比较值「{}」类型不符", f.label, toml_text(v)));
    Ok(match f.kind {
        FieldKind::Integer | FieldKind::Decimal | FieldKind::Money | FieldKind::Reference | FieldKind::Year => {
            Arg::Int(v.as_integer().ok_or_else(bad)?)
        }
        FieldKind::Boolean => Arg::Bool(v.as_bool().ok_or_else(bad)?),
        FieldKind::Date => {
            let s = v.as_str().ok_or_else(bad)?;
            Arg::Date(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?)
        }
        _ => Arg::Text(toml_text(v)),
    })
}

/// The year of a date, month or year column, on either engine.
fn year_expr(engine: Engine, def: &LedgerDef, field: &str) -> String {
    let c = quote(field);
    match def.field(field).map(|f| f.kind) {
        Some(FieldKind::Year) => c,
        Some(FieldKind::Date) if engine == Engine::Postgres => format!("CAST(EXTRACT(YEAR FROM {c}) AS BIGINT)"),
        _ => format!("CAST(SUBSTR({c}, 1, 4) AS INTEGER)"),
    }
}

fn period_text(def: &LedgerDef, field: &str, p: &Period) -> String {
    match def.field(field).map(|f| f.kind) {
        Some(FieldKind::Month) => format!("{} 至 {}", p.start.format("%Y-%m"), p.end.format("%Y-%m")),
        Some(FieldKind::Year) if p.start.year() == p.end.year() => format!("{}年", p.start.year()),
        Some(FieldKind::Year) => format!("{}年 至 {}年", p.start.year(), p.end.year()),
        _ => format!("{} 至 {}", p.start, p.end),
    }
}

fn list_text(vals: &[String]) -> String {
    format!("{{{}}}", vals.join("、"))
}

/// Builds the selection of an indicator for a context.
pub(crate) fn select(engine: Engine, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context) -> Result<Selection> {
    let mut q = RecordQuery::default();
    let mut readable = Vec::new();
    let year = ctx.report_year();
    let time_period = match ind.time {
        TimeMode::During => Some(ctx.period.clone()),
        TimeMode::NextYear => Some(Period::year(year + 1)),
        TimeMode::AsOf | TimeMode::None => None,
    };
    let mut extra_period: Option<(String, Period)> = None;
    match (&def.time, ind.time) {
        (_, TimeMode::None) => {}
        (_, TimeMode::During | TimeMode::NextYear) if ind.period_field.is_some() => {
            if let (Some(pf), Some(p)) = (&ind.period_field, &time_period) {
                readable.push(format!("{} 在 {}", label_of(def, pf), period_text(def, pf, p)));
                extra_period = Some((pf.clone(), p.clone()));
            }
        }
        (TimeModel::Standing { start, end }, TimeMode::AsOf) => {
            q.as_of = Some(ctx.as_of);
            readable.push(format!(
                "{d} 在册（{} ≤ {d}，{} 为空或 ≥ {d}）",
                label_of(def, start),
                label_of(def, end),
                d = ctx.as_of
            ));
        }
        (TimeModel::Event { .. }, TimeMode::AsOf) => {
            return Err(ReportError::Definition(format!("指标「{}」：按事件记的台账不能按时点统计", ind.key)))
        }
        (TimeModel::Event { field }, _) => {
            if let Some(p) = &time_period {
                readable.push(format!("{} 在 {}", label_of(def, field), period_text(def, field, p)));
                q.period = time_period.clone();
            }
        }
        (TimeModel::Standing { start, end }, _) => {
            if let Some(p) = &time_period {
                readable.push(format!(
                    "{} 至 {} 期间在册（{} ≤ {}，{} 为空或 ≥ {}）",
                    p.start,
                    p.end,
                    label_of(def, start),
                    p.end,
                    label_of(def, end),
                    p.start
                ));
                q.period = time_period.clone();
            }
        }
    }
    let (cond, mut args) = records::where_clause(def, &ctx.scope, &q)?;
    let mut conds = vec![cond];
    let mut push = |args: &mut Vec<Arg>, a: Arg| -> String {
        args.push(a);
        format!("${}", args.len())
    };
    if let Some((pf, p)) = &extra_period {
        let (a, b) = match def.field(pf).map(|f| f.kind) {
            Some(FieldKind::Month) => (Arg::Text(p.start.format("%Y-%m").to_string()), Arg::Text(p.end.format("%Y-%m").to_string())),
            Some(FieldKind::Year) => (Arg::Int(i64::from(p.start.year())), Arg::Int(i64::from(p.end.year()))),
            _ => (Arg::Date(p.start), Arg::Date(p.end)),
        };
        let i = push(&mut args, a);
        let j = push(&mut args, b);
        conds.push(format!("{c} >= {i} AND {c} <= {j}", c = quote(pf)));
    }
    if let Some(rel) = ind.concerns_year {
        let y = match rel {
            RelYear::ThisYear => year,
            RelYear::NextYear => year + 1,
        };
        let time_field = match &def.time {
            TimeModel::Event { field } => field.clone(),
            TimeModel::Standing { start, .. } => start.clone(),
        };
        let n = push(&mut args, Arg::Int(i64::from(y)));
        conds.push(format!("COALESCE(concerns_year, {}) = {n}", year_expr(engine, def, &time_field)));
        readable.push(format!("所属年度 = {y}（未填的按{}的年份）", label_of(def, &time_field)));
    }
    for f in &ind.filters {
        filter_sql(engine, def, f, ctx, &mut conds, &mut args, &mut readable, &mut push)?;
    }
    let cond = conds.join(" AND ");
    let with = format!("WITH t AS (SELECT * FROM {} WHERE {cond})", def.table_name());
    Ok(Selection { with, cond, args, readable })
}

#[allow(clippy::too_many_arguments)]
fn filter_sql(
    engine: Engine,
    def: &LedgerDef,
    f: &Filter,
    ctx: &Context,
    conds: &mut Vec<String>,
    args: &mut Vec<Arg>,
    readable: &mut Vec<String>,
    push: &mut impl FnMut(&mut Vec<Arg>, Arg) -> String,
) -> Result<()> {
    if let Some(states) = &f.state_in {
        let ps: Vec<String> = states.iter().map(|s| push(args, Arg::Text(s.clone()))).collect();
        conds.push(format!("state IN ({})", ps.join(", ")));
        readable.push(format!("状态 ∈ {}", list_text(&states.iter().map(|s| state_label(def, s)).collect::<Vec<_>>())));
        return Ok(());
    }
    if let Some(states) = &f.state_not_in {
        let ps: Vec<String> = states.iter().map(|s| push(args, Arg::Text(s.clone()))).collect();
        conds.push(format!("(state IS NULL OR state NOT IN ({}))", ps.join(", ")));
        readable.push(format!("状态 ∉ {}", list_text(&states.iter().map(|s| state_label(def, s)).collect::<Vec<_>>())));
        return Ok(());
    }
    let key = f.field.as_deref().ok_or_else(|| ReportError::Definition("条件缺少 field".into()))?;
    let label = label_of(def, key);
    let c = quote(key);
    if let Some(v) = &f.eq {
        let p = push(args, to_arg(def, key, v)?);
        conds.push(format!("{c} = {p}"));
        readable.push(format!("{label} = {}", toml_text(v)));
    } else if let Some(v) = &f.ne {
        let p = push(args, to_arg(def, key, v)?);
        conds.push(format!("({c} IS NULL OR {c} <> {p})"));
        readable.push(format!("{label} ≠ {}", toml_text(v)));
    } else if let Some(vs) = &f.within {
        let mut ps = Vec::new();
        for v in vs {
            ps.push(push(args, to_arg(def, key, v)?));
        }
        conds.push(format!("{c} IN ({})", ps.join(", ")));
        readable.push(format!("{label} ∈ {}", list_text(&vs.iter().map(toml_text).collect::<Vec<_>>())));
    } else if let Some(vs) = &f.not_in {
        let mut ps = Vec::new();
        for v in vs {
            ps.push(push(args, to_arg(def, key, v)?));
        }
        conds.push(format!("({c} IS NULL OR {c} NOT IN ({}))", ps.join(", ")));
        readable.push(format!("{label} ∉ {}", list_text(&vs.iter().map(toml_text).collect::<Vec<_>>())));
    } else if f.null == Some(true) {
        conds.push(format!("{c} IS NULL"));
        readable.push(format!("{label} 为空"));
    } else if f.not_null == Some(true) {
        conds.push(format!("{c} IS NOT NULL"));
        readable.push(format!("{label} 不为空"));
    } else if f.is_true == Some(true) {
        let p = push(args, Arg::Bool(true));
        conds.push(format!("{c} = {p}"));
        readable.push(format!("{label} = 是"));
    } else if let Some(x) = &f.contains {
        let json = serde_json::to_string(x).unwrap_or_default();
        let p = push(args, Arg::Text(format!("%{json}%")));
        conds.push(format!("{c} LIKE {p}"));
        readable.push(format!("{label} 含 {x}"));
    } else if let Some([a, b]) = f.months {
        let month = match def.field(key).map(|f| f.kind) {
            Some(FieldKind::Date) if engine == Engine::Postgres => format!("CAST(EXTRACT(MONTH FROM {c}) AS BIGINT)"),
            _ => format!("CAST(SUBSTR({c}, 6, 2) AS INTEGER)"),
        };
        let i = push(args, Arg::Int(i64::from(a)));
        let j = push(args, Arg::Int(i64::from(b)));
        conds.push(format!("{month} >= {i} AND {month} <= {j}"));
        readable.push(if a == b { format!("{label} 在每年 {a} 月") } else { format!("{label} 在每年 {a}—{b} 月") });
    } else if f.on_or_before.is_some() || f.blank_or_after.is_some() {
        let a = match def.field(key).map(|f| f.kind) {
            Some(FieldKind::Month) => Arg::Text(ctx.as_of.format("%Y-%m").to_string()),
            Some(FieldKind::Year) => Arg::Int(i64::from(ctx.as_of.year())),
            _ => Arg::Date(ctx.as_of),
        };
        let p = push(args, a);
        if f.on_or_before.is_some() {
            conds.push(format!("{c} <= {p}"));
            readable.push(format!("{label} ≤ {}", ctx.as_of));
        } else {
            conds.push(format!("({c} IS NULL OR {c} > {p})"));
            readable.push(format!("{label} 为空或晚于 {}", ctx.as_of));
        }
    }
    Ok(())
}

/// The `WITH t AS (…)` clause of an indicator and its readable conditions (for tests and
/// provenance listings).
pub fn selection_sql(engine: Engine, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context) -> Result<(String, Vec<String>)> {
    let s = select(engine, ind, def, ctx)?;
    Ok((s.with, s.readable))
}

/// SQL of a measure over `t`: the value expression, the join it needs, and for averages
/// the count expression.
pub(crate) fn measure_sql(tx: &Tx, m: &Measure, def: &LedgerDef) -> (String, &'static str, Option<String>) {
    const PERSONS: &str = " LEFT JOIN persons p ON p.id = t.subject_id";
    match m {
        Measure::Count => ("COUNT(*)".into(), "", None),
        Measure::DistinctSubject => ("COUNT(DISTINCT t.subject_id)".into(), "", None),
        Measure::DistinctHouseholds if def.subject == SubjectKind::Person => (
            "COUNT(DISTINCT CASE WHEN p.household_id IS NULL THEN -t.subject_id ELSE p.household_id END)".into(),
            PERSONS,
            None,
        ),
        Measure::DistinctHouseholds => ("COUNT(DISTINCT t.subject_id)".into(), "", None),
        Measure::DistinctField(f) => (format!("COUNT(DISTINCT t.{})", quote(f)), "", None),
        Measure::Villages => ("COUNT(DISTINCT v.id)".into(), "", None),
        Measure::Sum(f) => (tx.sum_int(&format!("t.{}", quote(f))), "", None),
        Measure::Avg(f) => (tx.sum_int(&format!("t.{}", quote(f))), "", Some(format!("COUNT(t.{})", quote(f)))),
        // Computed from the distinct years (see `streak`); the SQL lists them.
        Measure::ConsecutiveYears(f) => (format!("t.{}", quote(f)), "", None),
    }
}

const VILLAGE_JOIN: &str = " JOIN village_of v ON v.pid = t.place_id";
/// Each place of the scope with the village it lies in (`v.pid` → `v.id`), worked out once per
/// query over the places table (`$1` of a [`select`] is the scope's path pattern): the records
/// `t` holds lie in it. Joining records to villages by `path LIKE` directly ran the pattern for
/// every record against every place, which no index can serve; mapping a county's every place
/// to its village cost a town's reader 0.14 s a query.
pub(crate) const SCOPED_VILLAGE_CTE: &str = ", village_of AS MATERIALIZED (SELECT p.id AS pid, vv.id AS id FROM places p \
     JOIN places vv ON vv.level = 'village' AND p.path LIKE vv.path || '%' WHERE p.path LIKE $1)";
/// The filter of [`place_map_cte`] that keeps to the places of the scope, as [`SCOPED_VILLAGE_CTE`].
const IN_SCOPE: &str = " WHERE p.path LIKE $1";

/// The village map for another level, under another name; `filter` (e.g. ` WHERE p.path LIKE $1`)
/// limits the places mapped.
pub(crate) fn place_map_cte(name: &str, level: PlaceLevel, filter: &str) -> String {
    format!(
        ", {name} AS MATERIALIZED (SELECT p.id AS pid, vv.id AS id FROM places p \
         JOIN places vv ON vv.level = '{}' AND p.path LIKE vv.path || '%'{filter})",
        level.key()
    )
}

/// The number of consecutive years ending at the latest of `years` (ascending, distinct):
/// [2019, 2021, 2022, 2023] → 3.
pub fn streak(years: &[i64]) -> i64 {
    let mut n = 0;
    let mut expect = None;
    for y in years.iter().rev() {
        match expect {
            Some(e) if *y != e => break,
            _ => {}
        }
        n += 1;
        expect = Some(y - 1);
    }
    n
}

pub(crate) fn finish(value: i64, count: Option<i64>) -> i64 {
    match count {
        Some(0) => 0,
        Some(n) => value.div_euclid(n),
        None => value,
    }
}

/// Finds an indicator's ledger among `ledgers`.
pub fn ledger_of<'a>(ind: &IndicatorDef, ledgers: &'a [LedgerDef]) -> Result<&'a LedgerDef> {
    ledgers
        .iter()
        .find(|l| l.key == ind.ledger)
        .ok_or_else(|| ReportError::Definition(format!("指标「{}」引用了不存在的台账「{}」", ind.key, ind.ledger)))
}

/// The value of one indicator, with its target (setting `target:<key>` of the report year).
pub async fn evaluate(tx: &mut Tx, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context) -> Result<Figure> {
    let (m, sel, sql, count) = figure_sql(tx, ind, def, ctx)?;
    let value = if matches!(m, Measure::ConsecutiveYears(_)) {
        let years: Vec<i64> = tx.fetch(&sql, &sel.args).await?.iter().map(|r| r.int(0)).collect();
        streak(&years)
    } else {
        let row = tx.fetch_one(&sql, &sel.args).await?;
        finish(row.int(0), count.then(|| row.int(1)))
    };
    let target = settings::get(tx, &format!("target:{}", ind.key), ctx.report_year()).await?;
    Ok(figure(ind, def, &m, sel.readable, sql, value, target))
}

/// The figure of an indicator whose value (and target, `target:<key>` of the report's year)
/// were found another way (a ledger's indicators in one scan, `rollup::totals_at`): the same
/// figure [`evaluate`] gives, its own query named as the provenance.
pub(crate) fn figure_with(tx: &Tx, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context, value: i64, target: Option<i64>) -> Result<Figure> {
    let (m, sel, sql, _) = figure_sql(tx, ind, def, ctx)?;
    Ok(figure(ind, def, &m, sel.readable, sql, value, target))
}

/// An indicator's own query for a context: its measure, selection, SQL, and whether the SQL
/// gives a count beside the value (an average).
fn figure_sql(tx: &Tx, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context) -> Result<(Measure, Selection, String, bool)> {
    let m = ind.measure()?;
    let sel = select(tx.engine(), ind, def, ctx)?;
    let (expr, join, count) = measure_sql(tx, &m, def);
    let (village, village_cte) = if m == Measure::Villages { (VILLAGE_JOIN, SCOPED_VILLAGE_CTE) } else { ("", "") };
    let count_col = count.as_deref().map(|c| format!(", {c}")).unwrap_or_default();
    let sql = if matches!(m, Measure::ConsecutiveYears(_)) {
        format!("{} SELECT DISTINCT {expr} FROM t WHERE {expr} IS NOT NULL ORDER BY 1", sel.with)
    } else {
        format!("{}{village_cte} SELECT {expr}{count_col} FROM t{join}{village}", sel.with)
    };
    Ok((m, sel, sql, count.is_some()))
}

fn figure(ind: &IndicatorDef, def: &LedgerDef, m: &Measure, filters: Vec<String>, sql: String, value: i64, target: Option<i64>) -> Figure {
    Figure {
        key: ind.key.clone(),
        name: ind.name.clone(),
        unit: ind.unit.clone(),
        ledger: def.key.clone(),
        ledger_name: def.name.clone(),
        measure: m.label(def),
        scale: m.scale(def),
        value,
        target,
        filters,
        sql,
    }
}

/// The value of one indicator in each village of the scope, ordered by village code; records
/// placed above village level (the town itself) are left out.
pub async fn by_village(tx: &mut Tx, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context) -> Result<Vec<VillageFigure>> {
    by_level(tx, ind, def, ctx, PlaceLevel::Village).await
}

/// The value of one indicator in each place of `level` within the scope (each town of a
/// county, each village of a town), ordered by code; records placed above that level are left
/// out. One query groups every record by the place of that level it lies in.
pub async fn by_level(tx: &mut Tx, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context, level: PlaceLevel) -> Result<Vec<VillageFigure>> {
    let q = grouped_sql(tx, ind, def, ctx, level)?;
    let places = places::of_level(tx, &ctx.scope, level).await?;
    Ok(place_values(&places, &run_grouped(tx, &q).await?))
}

/// The query of [`by_level`]: rows of (place id, value[, count]) or, for a streak, of
/// (place id, year).
#[derive(Clone)]
pub(crate) struct GroupedSql {
    pub sql: String,
    pub args: Vec<Arg>,
    pub streak: bool,
    pub averaged: bool,
}

pub(crate) fn grouped_sql(tx: &Tx, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context, level: PlaceLevel) -> Result<GroupedSql> {
    let m = ind.measure()?;
    let sel = select(tx.engine(), ind, def, ctx)?;
    let (expr, join, count) = measure_sql(tx, &m, def);
    let count_col = count.as_deref().map(|c| format!(", {c}")).unwrap_or_default();
    // `v` is the village of a record in the measure (`COUNT(DISTINCT v.id)`), `g` the group.
    let (group_cte, group_join) = if level == PlaceLevel::Village {
        (String::new(), "")
    } else {
        (place_map_cte("group_of", level, IN_SCOPE), " JOIN group_of g ON g.pid = t.place_id")
    };
    let g = if level == PlaceLevel::Village { "v" } else { "g" };
    let village_join = if level == PlaceLevel::Village || m == Measure::Villages { VILLAGE_JOIN } else { "" };
    let village_cte = if village_join.is_empty() { "" } else { SCOPED_VILLAGE_CTE };
    let streak = matches!(m, Measure::ConsecutiveYears(_));
    let sql = if streak {
        format!(
            "{}{village_cte}{group_cte} SELECT DISTINCT {g}.id, {expr} FROM t{village_join}{group_join} WHERE {g}.id IS NOT NULL AND {expr} IS NOT NULL ORDER BY 1, 2",
            sel.with
        )
    } else {
        format!(
            "{}{village_cte}{group_cte} SELECT {g}.id, {expr}{count_col} FROM t{join}{village_join}{group_join} WHERE {g}.id IS NOT NULL GROUP BY {g}.id",
            sel.with
        )
    };
    Ok(GroupedSql { sql, args: sel.args, streak, averaged: count.is_some() })
}

/// Runs a [`grouped_sql`] query: the value of each place id that has records.
pub(crate) async fn run_grouped(tx: &mut Tx, q: &GroupedSql) -> Result<BTreeMap<i64, i64>> {
    let rows = tx.fetch(&q.sql, &q.args).await?;
    if q.streak {
        let mut years: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for r in &rows {
            years.entry(r.int(0)).or_default().push(r.int(1));
        }
        return Ok(years.into_iter().map(|(id, ys)| (id, streak(&ys))).collect());
    }
    Ok(rows.iter().map(|r| (r.int(0), finish(r.int(1), q.averaged.then(|| r.int(2))))).collect())
}

/// Each place of `level` in the scope with its value (0 where no record counts).
pub(crate) fn place_values(places: &[taizhang_domain::place::Place], values: &BTreeMap<i64, i64>) -> Vec<VillageFigure> {
    places
        .iter()
        .map(|p| VillageFigure {
            place_id: p.id,
            code: p.code.clone().unwrap_or_default(),
            name: p.name.clone(),
            value: values.get(&p.id).copied().unwrap_or(0),
        })
        .collect()
}

/// A parameter written as an SQL literal of the engine that stores it.
pub(crate) fn literal(engine: Engine, a: &Arg) -> String {
    let quoted = |t: &str| format!("'{}'", t.replace('\'', "''"));
    match a {
        Arg::Int(i) => i.to_string(),
        Arg::Text(t) => quoted(t),
        Arg::Date(d) => quoted(&d.to_string()),
        Arg::Time(t) => quoted(&t.to_rfc3339()),
        Arg::Bool(b) if engine == Engine::Sqlite => i64::from(*b).to_string(),
        Arg::Bool(b) => b.to_string(),
        Arg::NullInt | Arg::NullText | Arg::NullDate | Arg::NullBool => "NULL".into(),
    }
}

/// The records behind an indicator (at most `limit`), ordered by id, and how many there are.
pub async fn records_behind(
    tx: &mut Tx,
    ind: &IndicatorDef,
    def: &LedgerDef,
    ctx: &Context,
    limit: i64,
) -> Result<(i64, Vec<Record>)> {
    let sel = select(tx.engine(), ind, def, ctx)?;
    let mut args = sel.args.clone();
    args.push(Arg::Int(limit.max(1)));
    // The count beside the first ids, in one query: no row means none at all.
    let sql = format!("{} SELECT t.id, COUNT(*) OVER () FROM t ORDER BY t.id LIMIT ${}", sel.with, args.len());
    let rows = tx.fetch(&sql, &args).await?;
    let total = rows.first().map_or(0, |r| r.int(1));
    let ids: Vec<i64> = rows.iter().map(|r| r.int(0)).take(usize::try_from(limit).unwrap_or(0)).collect();
    let out = records::by_ids(tx, def, &ctx.scope, &ids).await?;
    if out.len() != ids.len() {
        return Err(taizhang_storage::StoreError::NotFound(format!("「{}」的记录在读取时已不在管辖范围内", def.name)).into());
    }
    Ok((total, out))
}

/// The records behind an indicator as a report lists them (`list = true`): for each record
/// its `id`, the name of its `place` and every field that is not sensitive, by key (dates as
/// ISO text, money in 分, multi-select joined with 、, references by the referenced name);
/// ordered by id, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Listing {
    /// How many records the indicator takes (may exceed `rows.len()`).
    pub total: i64,
    pub date_fields: Vec<String>,
    pub month_fields: Vec<String>,
    pub rows: Vec<BTreeMap<String, serde_json::Value>>,
}

async fn reference_name(tx: &mut Tx, target: Option<&RefTarget>, id: i64) -> Result<serde_json::Value> {
    let sql = match target {
        Some(RefTarget::Person) => "SELECT name FROM persons WHERE id = $1",
        Some(RefTarget::Household) => "SELECT number FROM households WHERE id = $1",
        Some(RefTarget::Cadre) => "SELECT name FROM cadres WHERE id = $1",
        Some(RefTarget::Organisation) => "SELECT name FROM organisations WHERE id = $1",
        Some(RefTarget::Place) => "SELECT name FROM places WHERE id = $1",
        Some(RefTarget::Ledger(_)) | None => return Ok(serde_json::Value::from(id)),
    };
    Ok(match tx.fetch_opt(sql, &[Arg::Int(id)]).await? {
        Some(r) => serde_json::Value::from(r.text(0)),
        None => serde_json::Value::from(id),
    })
}

/// The records behind an indicator, for listing in a report (see [`Listing`]).
pub async fn listing(tx: &mut Tx, ind: &IndicatorDef, def: &LedgerDef, ctx: &Context, limit: i64) -> Result<Listing> {
    use serde_json::Value as J;
    let (total, recs) = records_behind(tx, ind, def, ctx, limit).await?;
    // Documents show no field marked sensitive (the masking policy's `DOCUMENT`).
    let fields: Vec<_> = def.active_fields().filter(|f| taizhang_domain::masking::in_documents(f)).collect();
    let mut place_ids: Vec<i64> = recs.iter().map(|r| r.place_id).collect();
    place_ids.sort_unstable();
    place_ids.dedup();
    let mut place_names = std::collections::HashMap::new();
    if !place_ids.is_empty() {
        // Ids read from the database, written as integer literals.
        let list = place_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        for r in tx.fetch(&format!("SELECT id, name FROM places WHERE id IN ({list})"), &[]).await? {
            place_names.insert(r.int(0), r.text(1));
        }
    }
    let mut rows = Vec::new();
    for r in recs {
        let mut row = BTreeMap::new();
        row.insert("id".to_string(), J::from(r.id));
        row.insert("place".to_string(), place_names.get(&r.place_id).map_or(J::Null, |n| J::from(n.clone())));
        for f in &fields {
            let v = match (f.kind, r.values.get(&f.key).unwrap_or(&Value::Null)) {
                (FieldKind::Reference, Value::Int(id)) => reference_name(tx, f.target.as_ref(), *id).await?,
                (_, Value::Int(i)) => J::from(*i),
                (_, Value::Bool(b)) => J::from(*b),
                (_, Value::Date(d)) => J::from(d.to_string()),
                (_, Value::Text(t)) => J::from(t.clone()),
                (_, Value::List(l)) => J::from(l.join("、")),
                (_, Value::Null) => J::Null,
            };
            row.insert(f.key.clone(), v);
        }
        rows.push(row);
    }
    let keys_of = |kind: FieldKind| fields.iter().filter(|f| f.kind == kind).map(|f| f.key.clone()).collect();
    Ok(Listing { total, date_fields: keys_of(FieldKind::Date), month_fields: keys_of(FieldKind::Month), rows })
}

/// Every indicator's value, in the order given.
pub async fn evaluate_all(tx: &mut Tx, inds: &[IndicatorDef], ledgers: &[LedgerDef], ctx: &Context) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for ind in inds {
        out.push(evaluate(tx, ind, ledger_of(ind, ledgers)?, ctx).await?);
    }
    Ok(out)
}

/// A short text of a record's values for listings ("发放月份=2023-01 金额=300.00元 帮扶责任人=王芳"),
/// references by the name they point at (`refs::label`, within `scope`).
pub async fn record_text(tx: &mut Tx, scope: &Scope, def: &LedgerDef, r: &Record, max_fields: usize) -> Result<String> {
    let mut named = r.clone();
    for f in def.active_fields().filter(|f| f.kind == FieldKind::Reference) {
        if let (Some(Value::Int(id)), Some(t)) = (r.values.get(&f.key), f.target.as_ref()) {
            let label = taizhang_storage::refs::label(tx, scope, t, *id).await?.unwrap_or_else(|| format!("#{id}"));
            named.values.insert(f.key.clone(), Value::Text(label));
        }
    }
    Ok(record_summary(def, &named, max_fields))
}

/// A short text of a record's values for listings ("发放月份=2023-01 金额=300.00元"), references
/// by their ids ([`record_text`] names them).
pub fn record_summary(def: &LedgerDef, r: &Record, max_fields: usize) -> String {
    def.active_fields()
        .filter(|f| taizhang_domain::masking::in_documents(f))
        .filter_map(|f| {
            let v = r.values.get(&f.key)?;
            let text = match (f.kind, v) {
                (FieldKind::Money, Value::Int(i)) => format!("{}.{:02}元", i.div_euclid(100), i.rem_euclid(100)),
                (_, Value::Int(i)) => format!("{i}{}", f.unit),
                (_, Value::Bool(b)) => (if *b { "是" } else { "否" }).to_string(),
                (_, Value::Date(d)) => d.to_string(),
                (_, Value::Text(t)) => t.clone(),
                (_, Value::List(l)) => l.join("、"),
                (_, Value::Null) => return None,
            };
            Some(format!("{}={text}", f.label))
        })
        .take(max_fields)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::streak;

    #[test]
    fn a_streak_counts_back_from_the_latest_year() {
        assert_eq!(streak(&[]), 0);
        assert_eq!(streak(&[2023]), 1);
        assert_eq!(streak(&[2022, 2023]), 2);
        assert_eq!(streak(&[2019, 2021, 2022, 2023]), 3);
        assert_eq!(streak(&[2020, 2021, 2023]), 1);
    }
}
