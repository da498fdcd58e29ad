//! The dashboard: the year's key figures against their targets, charts by month and by
//! village for the chosen figure, open cases and overdue items, all within the user's scope.

use std::sync::{Arc, OnceLock};

use axum::extract::{Query, State};
use axum::Extension;
use axum::response::Html;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::ledger::{FieldKind, LedgerDef, TimeModel};
use taizhang_domain::period::{parse_period, Period};
use taizhang_reports::{eval, indicator, Context, Figure, IndicatorDef};
use taizhang_storage::ledgers::quote;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{Arg, Scope, Tx};

use crate::auth::Me;
use crate::guard::GuardTx;
use crate::cache::Dashboard;
use crate::error::{AppError, AppResult};
use crate::{charts, views, AppState};

/// The built-in indicators, parsed once.
pub fn indicators() -> AppResult<&'static [IndicatorDef]> {
    static INDS: OnceLock<Result<Vec<IndicatorDef>, String>> = OnceLock::new();
    match INDS.get_or_init(|| indicator::builtin().map_err(|e| e.to_string())) {
        Ok(v) => Ok(v),
        Err(e) => Err(AppError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.clone())),
    }
}

/// A figure as people read it: money in 元 (万元 when large), decimals at their scale.
pub fn figure_text(value: i64, unit: &str, scale: u8) -> String {
    if unit == "元" || unit == "万元" {
        taizhang_domain::money::format_yuan(taizhang_domain::money::Fen(value))
    } else {
        taizhang_domain::money::format_scaled(value, scale)
    }
}

#[derive(Deserialize, Default)]
pub struct DashQuery {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    ind: String,
    #[serde(default)]
    notice: String,
}

/// The indicators the dashboard shows: the first of each section of the summary.
fn key_indicators(inds: &[IndicatorDef]) -> Vec<&IndicatorDef> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for i in inds {
        if !seen.contains(&i.section) {
            seen.push(i.section.clone());
            out.push(i);
        }
    }
    out
}

fn card(f: &Figure) -> serde_json::Value {
    let rate = f.target.filter(|t| *t > 0).map(|t| format!("{}%", f.value * 100 / t));
    json!({
        "key": f.key, "name": f.name, "unit": f.unit, "value": f.value,
        "text": figure_text(f.value, &f.unit, f.scale),
        "target": f.target.map(|t| figure_text(t, &f.unit, f.scale)),
        "rate": rate, "ledger_name": f.ledger_name,
    })
}

pub async fn dashboard(State(state): State<AppState>, me: Me, Extension(guard_tx): Extension<GuardTx>, Query(q): Query<DashQuery>) -> AppResult<Html<String>> {
    let today = state.today();
    // Without a year asked for: the latest year that has records (worked out with the figures
    // and kept with them, so the cached page costs no query for it either).
    let year = q.year.filter(|y| (1990..=2100).contains(y));
    let version = me.version;
    // The figures depend only on the scope, the year (or "the latest"), the chosen figure and today.
    let year_key = year.map_or_else(|| "latest".to_string(), |y| y.to_string());
    let key = format!("{}\u{1f}{year_key}\u{1f}{}\u{1f}{today}", me.scope.path, q.ind);
    // Both already known for this data version: no query at all.
    let (defs, d) = match (state.cache.fresh_defs(version), state.cache.dashboard(&key, version)) {
        (Some(defs), Some(d)) => (defs, d),
        _ => compute(&state, &me, guard_tx.read(&state).await?, &key, year, &q.ind, today).await?,
    };
    guard_tx.release();
    let mut ctx = views::layout(&me, &defs, "首页", &[]);
    ctx.insert("year".into(), json!(d.year));
    ctx.insert("ind".into(), json!(d.ind_key));
    ctx.insert("cards".into(), d.cards.clone());
    ctx.insert("chart_name".into(), json!(d.chart_name));
    ctx.insert("by_month".into(), json!(d.by_month));
    ctx.insert("by_village".into(), json!(d.by_village));
    ctx.insert("open".into(), d.open.clone());
    ctx.insert("open_total".into(), json!(d.open_total));
    ctx.insert("overdue".into(), d.overdue.clone());
    if q.notice == "password" {
        ctx.insert("notice".into(), json!("密码已修改"));
    }
    views::render("dashboard.html", &ctx.into())
}

/// The definitions and the dashboard for `key`, computing the figures when this data version has
/// none yet (one request at a time; the others wait and take its result).
async fn compute(state: &AppState, me: &Me, mut tx: Tx, key: &str, year: Option<i32>, ind: &str, today: chrono::NaiveDate) -> AppResult<(Arc<Vec<LedgerDef>>, Arc<Dashboard>)> {
    let version = me.version;
    let defs = state.cache.defs(&mut tx, version).await?;
    if let Some(d) = state.cache.dashboard(key, version) {
        return Ok((defs, d));
    }
    let _one_at_a_time = state.cache.computing.lock().await;
    if let Some(d) = state.cache.dashboard(key, version) {
        return Ok((defs, d));
    }
    let d = Arc::new(figures(&mut tx, me, &defs, year, ind, today).await?);
    state.cache.keep_dashboard(key.to_string(), version, d.clone());
    Ok((defs, d))
}

/// The latest year up to this one in which any ledger within `scope` has a record: an event's
/// date, or an enrolment's start or end (a town entering last year's ledgers in January opens
/// on last year, not on an empty page). This year when there is none.
pub async fn latest_year(tx: &mut Tx, scope: &Scope, defs: &[LedgerDef], today: NaiveDate) -> AppResult<i32> {
    let mut latest: Option<i32> = None;
    for def in defs {
        let fields: Vec<&str> = match &def.time {
            TimeModel::Event { field } => vec![field],
            TimeModel::Standing { start, end } => vec![start, end],
        };
        for f in fields {
            let Some(kind) = def.field(f).map(|x| x.kind) else { continue };
            // Dates kept for later (a deadline, a planned payment) do not make a year "latest".
            let cap = match kind {
                FieldKind::Month => Arg::Text(today.format("%Y-%m").to_string()),
                FieldKind::Year => Arg::Int(i64::from(today.year())),
                FieldKind::Date => Arg::Date(today),
                _ => continue,
            };
            let (cond, mut args) = records::where_clause(def, scope, &RecordQuery::default())?;
            args.push(cap);
            let c = quote(f);
            let sql = format!("SELECT MAX({c}) FROM {} WHERE {cond} AND {c} <= ${}", def.table_name(), args.len());
            let row = tx.fetch_one(&sql, &args).await?;
            // Month text, ISO date or year: the year is the first four characters of each.
            let year = row.opt_text(0).and_then(|v| v.get(..4).and_then(|y| y.parse::<i32>().ok()));
            latest = latest.max(year);
        }
    }
    Ok(latest.unwrap_or(today.year()))
}

/// The dashboard's figures, charts, open cases and overdue items within the user's scope.
async fn figures(tx: &mut Tx, me: &Me, defs: &[LedgerDef], year: Option<i32>, ind: &str, today: chrono::NaiveDate) -> AppResult<Dashboard> {
    let year = match year {
        Some(y) => y,
        None => latest_year(tx, &me.scope, defs, today).await?,
    };
    let inds = indicators()?;
    // Figures with a target for the year come first, then the first figure of each section.
    let targets = taizhang_storage::settings::all(tx).await?;
    let mut shown: Vec<&IndicatorDef> = inds.iter().filter(|i| targets.contains_key(&(format!("target:{}", i.key), year))).take(8).collect();
    for i in key_indicators(inds) {
        if !shown.iter().any(|s| s.key == i.key) {
            shown.push(i);
        }
    }
    // As of the year's end or today, whichever is earlier.
    let ctx_year = Context::clamped(Period::year(year), None, today, me.scope.clone());
    let mut chosen = inds.iter().find(|i| i.key == ind);
    if let Some(c) = chosen {
        if !shown.iter().any(|i| i.key == c.key) {
            shown.insert(0, c);
        }
    } else {
        // Without a choice, chart the first key figure that differs between villages.
        for ind in &shown {
            let def = eval::ledger_of(ind, defs)?;
            let v = eval::by_village(tx, ind, def, &ctx_year).await?;
            let mut distinct: Vec<i64> = v.iter().map(|x| x.value).filter(|x| *x != 0).collect();
            distinct.sort_unstable();
            distinct.dedup();
            if distinct.len() >= 2 {
                chosen = Some(ind);
                break;
            }
        }
        chosen = chosen.or(shown.first().copied());
    }
    let mut cards = Vec::new();
    for ind in &shown {
        let def = eval::ledger_of(ind, defs)?;
        cards.push(card(&eval::evaluate(tx, ind, def, &ctx_year).await?));
    }
    let (mut by_month, mut by_village, mut chart_name, mut ind_key) = (String::new(), String::new(), String::new(), String::new());
    if let Some(ind) = chosen {
        let def = eval::ledger_of(ind, defs)?;
        let (mut labels, mut values, mut texts) = (Vec::new(), Vec::new(), Vec::new());
        for m in 1..=12 {
            let period = parse_period(&format!("{year}-{m:02}")).map_err(|e| AppError::bad_request(e.to_string()))?;
            labels.push(format!("{m}月"));
            // A month still to come has no figure yet (an enrolment count "as of" it would be
            // today's count shown as the future's).
            if period.start > today {
                values.push(0);
                texts.push(String::new());
                continue;
            }
            let c = Context::clamped(period, None, today, me.scope.clone());
            let f = eval::evaluate(tx, ind, def, &c).await?;
            values.push(f.value);
            texts.push(figure_text(f.value, &f.unit, f.scale));
        }
        by_month = charts::bars(&labels, &values, &texts);
        let villages = eval::by_village(tx, ind, def, &ctx_year).await?;
        let f = eval::evaluate(tx, ind, def, &ctx_year).await?;
        by_village = charts::bars(
            &villages.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
            &villages.iter().map(|v| v.value).collect::<Vec<_>>(),
            &villages.iter().map(|v| figure_text(v.value, &f.unit, f.scale)).collect::<Vec<_>>(),
        );
        chart_name = ind.name.clone();
        ind_key = ind.key.clone();
    }
    let mut open = Vec::new();
    let mut open_total = 0;
    let mut overdue = Vec::new();
    for def in defs.iter().filter(|d| d.workflow.is_some()) {
        let Some(wf) = &def.workflow else { continue };
        for s in wf.states.iter().filter(|s| !s.closed) {
            let n = records::count(tx, def, &me.scope, &RecordQuery { state: Some(s.key.clone()), ..Default::default() }).await?;
            if n > 0 {
                open_total += n;
                open.push(json!({"key": def.key, "name": def.name, "state": s.key, "label": s.label, "tone": s.tone, "count": n}));
            }
        }
        if !wf.deadlines.is_empty() {
            for (r, why) in records::overdue(tx, def, &me.scope, today).await?.into_iter().take(20) {
                overdue.push(json!({"key": def.key, "name": def.name, "id": r.id, "reason": why}));
            }
        }
    }
    Ok(Dashboard {
        year,
        ind_key,
        cards: json!(cards),
        chart_name,
        by_month,
        by_village,
        open: json!(open),
        open_total,
        overdue: json!(overdue),
    })
}
