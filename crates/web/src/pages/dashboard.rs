//! The dashboard: the year's key figures against their targets, charts by month and by
//! village for the chosen figure, open cases and overdue items, all within the user's scope.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Extension;
use axum::response::Html;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use serde_json::json;
use taizhang_domain::ledger::{FieldKind, LedgerDef, TimeModel};
use taizhang_domain::period::{parse_period, Period};
use taizhang_reports::indicator::Better;
use taizhang_reports::{eval, Context, Figure, IndicatorDef};
use taizhang_storage::ledgers::quote;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{Arg, Scope, Tx};

use crate::auth::Me;
use crate::query::reports::indicators;
use crate::guard::GuardTx;
use crate::cache::Dashboard;
use crate::error::{AppError, AppResult};
use crate::{charts, views, AppState};

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
    // Reads and sign-ins change no figure: the page is kept while the data stands still.
    let version = me.data_version;
    // The figures depend on the scope, the year (or "the latest"), the chosen figure and today,
    // and on who looks: the overdue cases and findings of the ledgers they may read, named as
    // their role's masking shows them — so users share a cached page only when all of it is
    // the same for them.
    let year_key = year.map_or_else(|| "latest".to_string(), |y| y.to_string());
    let mut readable: Vec<&str> = me.user.ledgers.iter().map(String::as_str).collect();
    readable.sort_unstable();
    let key = format!("{}\u{1f}{year_key}\u{1f}{}\u{1f}{today}\u{1f}{}\u{1f}{}", me.scope.path, q.ind, me.user.role.key(), readable.join(","));
    // Both already known for this data version: no query at all.
    let (defs, d) = match (state.cache.fresh_defs(me.data_version), state.cache.dashboard(&key, version)) {
        (Some(defs), Some(d)) => (defs, d),
        _ => compute(&state, &me, guard_tx.read(&state).await?, &key, year, &q.ind, today).await?,
    };
    guard_tx.release();
    let mut ctx = views::layout(&me, &defs, "首页", &[]);
    ctx.insert("year".into(), json!(d.year));
    ctx.insert("ind".into(), json!(d.ind_key));
    let mut cards = d.cards.clone();
    if let Some(c) = cards.as_array_mut().and_then(|cards| cards.iter_mut().find(|c| c["kind"] == "checks")) {
        checks_card(&state, &me, &defs, &d, c, today);
    }
    ctx.insert("cards".into(), cards);
    // A county's cards carry their figure by town (and only a county's): the page then shows
    // the towns ranked, and the chart goes by town.
    ctx.insert("county".into(), json!(d.county));
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
    let defs = state.cache.defs(&mut tx, me.data_version).await?;
    let version = me.data_version;
    if let Some(d) = state.cache.dashboard(key, version) {
        return Ok((defs, d));
    }
    let lock = state.cache.computing(key);
    let _one_at_a_time = lock.lock().await;
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
    // Over two towns or more the scope holds most records, and SQLite (which keeps no statistics
    // here) would still walk every record through the place index: `+place_id` keeps it off
    // that index, so the time index is read from the newest down and the first record in scope
    // ends the search (54 statements on a county of 25 towns: 1.2 s → 0.2 s). A town's or a
    // village's few records are found faster through the place index, as before.
    let towns = tx
        .fetch_one("SELECT COUNT(*) FROM places WHERE level = 'town' AND path LIKE $1", &[scope.arg()])
        .await?
        .int(0);
    let wide = towns > 1;
    for def in defs {
        let fields: Vec<&str> = match &def.time {
            TimeModel::Event { field } => vec![field],
            TimeModel::Standing { start, end } => vec![start, end],
        };
        for f in fields {
            let Some(kind) = def.field(f).map(|x| x.kind) else { continue };
            if latest == Some(today.year()) {
                return Ok(today.year());
            }
            // Dates kept for later (a deadline, a planned payment) do not make a year "latest".
            let cap = match kind {
                FieldKind::Month => Arg::Text(today.format("%Y-%m").to_string()),
                FieldKind::Year => Arg::Int(i64::from(today.year())),
                FieldKind::Date => Arg::Date(today),
                _ => continue,
            };
            // Only a later year than the one found can change the answer: the walk down the time
            // index stops there instead of going on past the other towns' newer records to this
            // scope's first (a town on the county's database: 0.12 s for one ledger).
            let floor = latest.and_then(|l| match kind {
                FieldKind::Month => Some(Arg::Text(format!("{l:04}-12"))),
                FieldKind::Year => Some(Arg::Int(i64::from(l))),
                _ => NaiveDate::from_ymd_opt(l, 12, 31).map(Arg::Date),
            });
            let (mut cond, mut args) = records::where_clause(def, scope, &RecordQuery::default())?;
            if wide {
                cond = format!("+{cond}");
            }
            let c = quote(f);
            args.push(cap);
            cond = format!("{cond} AND {c} <= ${}", args.len());
            if let Some(floor) = floor {
                args.push(floor);
                cond = format!("{cond} AND {c} > ${}", args.len());
            }
            // `MAX` as the newest row: PostgreSQL plans a `MAX` over a join with the scope's
            // places as a scan of the whole table (0.3 s for a county's 1.7 M contributions beside
            // another county's), but walks the time index down for `ORDER BY … DESC LIMIT 1`.
            let sql = format!("SELECT {c} FROM {} WHERE {cond} ORDER BY {c} DESC LIMIT 1", def.table_name());
            let row = tx.fetch_opt(&sql, &args).await?;
            // Month text, ISO date or year: the year is the first four characters of each.
            let year = row.and_then(|r| r.opt_text(0)).and_then(|v| v.get(..4).and_then(|y| y.parse::<i32>().ok()));
            latest = latest.max(year);
        }
    }
    Ok(latest.unwrap_or(today.year()))
}

/// The setting that lists the dashboard's cards, by the names people know.
const CARDS_SETTING: &str = "dashboard:cards";
/// Card names that are not indicators: every workflow's cases past their deadline, and the
/// findings of the data checks.
const OVERDUE_CARD: &str = "逾期事项";
const CHECKS_CARD: &str = "数据核查发现";
/// A card name starting with this counts the chosen year's current month (December of a past
/// year).
const THIS_MONTH: &str = "本月";

/// The card names the settings choose (or their default), in order.
async fn card_names(tx: &mut Tx) -> AppResult<Vec<String>> {
    let all = taizhang_domain::setting::builtin().map_err(|e| AppError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let Some(def) = all.iter().find(|d| d.key == CARDS_SETTING) else { return Ok(Vec::new()) };
    let text = match taizhang_storage::settings::effective(tx, def, 0).await? {
        Some(taizhang_domain::setting::SettingValue::Text(t)) => t,
        _ => String::new(),
    };
    Ok(text.split(['、', ',', '，', ';', '；', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
}

/// The change from the same period of the year before, as shown: "+3（+12.5%）", "−2", "持平"
/// (the percentage rounded as every rate is, `numfmt::format_rate`).
fn year_on_year(value: i64, before: i64, unit: &str, scale: u8) -> String {
    let diff = value - before;
    if diff == 0 {
        return "持平".into();
    }
    let sign = if diff > 0 { "+" } else { "−" };
    let text = figure_text(diff.abs(), unit, scale);
    if before > 0 {
        format!("{sign}{text}{unit}（{sign}{}）", taizhang_domain::numfmt::format_rate(diff.abs(), before))
    } else {
        format!("{sign}{text}{unit}")
    }
}

/// A figure of each town, as the county's dashboard ranks them.
struct TownFigure {
    place_id: i64,
    code: String,
    name: String,
    value: i64,
    text: String,
    yoy: Option<String>,
    link: Option<String>,
}

/// The towns ranked, best first: highest first, or lowest first for a figure where fewer is
/// better (`better = "lower"` on the indicator; the overdue and findings cards). Equal values
/// share a rank (1, 1, 3) and keep their code order.
fn ranked(mut towns: Vec<TownFigure>, better: Better) -> serde_json::Value {
    towns.sort_by(|a, b| {
        let by_value = match better {
            Better::Higher => b.value.cmp(&a.value),
            Better::Lower => a.value.cmp(&b.value),
        };
        by_value.then(a.code.cmp(&b.code)).then(a.place_id.cmp(&b.place_id))
    });
    let mut out = Vec::with_capacity(towns.len());
    let mut rank = 0;
    let mut last = None;
    for (n, t) in towns.into_iter().enumerate() {
        if last != Some(t.value) {
            rank = n + 1;
            last = Some(t.value);
        }
        out.push(json!({"rank": rank, "id": t.place_id, "name": t.name, "value": t.value, "text": t.text, "yoy": t.yoy, "link": t.link}));
    }
    json!(out)
}

/// How a card's towns are ordered, as its ranking table's heading says it.
fn rank_order(better: Better) -> &'static str {
    match better {
        Better::Higher => "由高到低",
        Better::Lower => "由低到高（越少越好）",
    }
}

/// One indicator in each town of the county, now and in the same span of the year before
/// (`by_level`, the county's forms' way: records placed above a town are in no town), each
/// linked to `/explain` at that town's place over `period` (`year=2024`, `period=2024-03`).
#[allow(clippy::too_many_arguments)]
async fn town_figures(tx: &mut Tx, i: &IndicatorDef, def: &LedgerDef, now: &Context, before: &Context, period: &str, paths: &std::collections::HashMap<i64, String>, unit: &str, scale: u8) -> AppResult<serde_json::Value> {
    use taizhang_domain::place::PlaceLevel;
    let values = eval::by_level(tx, i, def, now, PlaceLevel::Town).await?;
    let earlier = eval::by_level(tx, i, def, before, PlaceLevel::Town).await?;
    let compared = i.time != taizhang_reports::indicator::TimeMode::None;
    let towns = values
        .into_iter()
        .map(|t| {
            let b = earlier.iter().find(|x| x.place_id == t.place_id).map_or(0, |x| x.value);
            TownFigure {
                text: figure_text(t.value, unit, scale),
                yoy: compared.then(|| year_on_year(t.value, b, unit, scale)),
                link: paths.get(&t.place_id).map(|p| format!("/explain/{}?{period}&place={}", i.key, crate::guard::encode(p))),
                place_id: t.place_id,
                code: t.code,
                name: t.name,
                value: t.value,
            }
        })
        .collect();
    Ok(ranked(towns, i.better))
}

/// What an overdue record is about: its person or household, else the first text it holds that
/// is not sensitive (a hazard's place, a dispute's parties).
async fn record_title(tx: &mut Tx, me: &Me, def: &LedgerDef, r: &taizhang_domain::value::Record) -> String {
    use taizhang_domain::ledger::SubjectKind;
    use taizhang_domain::value::Value;
    if matches!(def.subject, SubjectKind::Person | SubjectKind::Household) && r.subject_id.is_some() {
        return crate::query::subjects::subject_text(tx, me, def, r.subject_id).await;
    }
    for f in def.active_fields().filter(|f| f.kind == FieldKind::Text && f.sensitivity.is_none()) {
        if let Some(Value::Text(t)) = r.values.get(&f.key) {
            let t = t.trim();
            if !t.is_empty() {
                let short: String = t.chars().take(24).collect();
                return if short.len() < t.len() { format!("{short}…") } else { short };
            }
        }
    }
    format!("{}第 {} 号", def.name, r.id)
}

/// The dashboard's figures, charts, open cases and overdue items within the user's scope.
async fn figures(tx: &mut Tx, me: &Me, defs: &[LedgerDef], year: Option<i32>, ind: &str, today: chrono::NaiveDate) -> AppResult<Dashboard> {
    let year = match year {
        Some(y) => y,
        None => latest_year(tx, &me.scope, defs, today).await?,
    };
    let inds = indicators()?;
    // As of the year's end or today, whichever is earlier.
    let ctx_year = Context::clamped(Period::year(year), None, today, me.scope.clone());
    let ctx_before = Context::clamped(Period::year(year - 1), Some(ctx_year.as_of.with_year(year - 1).unwrap_or(ctx_year.as_of)), today, me.scope.clone());
    // The month "this month" means: today's in the current year, else the year's last.
    let month = if year == today.year() { today.month() } else { 12 };
    let month_period = |y: i32| parse_period(&format!("{y}-{month:02}")).map_err(|e| AppError::bad_request(e.to_string()));

    // Every overdue case, named: the card counts them and the list shows the first of each ledger.
    let places = {
        let all = taizhang_storage::places::subtree(tx, &Scope::all()).await?;
        all.into_iter().map(|p| (p.id, p)).collect::<std::collections::HashMap<_, _>>()
    };
    let village_of = |id: i64| -> (String, String) {
        let mut cur = places.get(&id);
        while let Some(p) = cur {
            if p.level == taizhang_domain::place::PlaceLevel::Village {
                return (p.name.clone(), p.code.clone().unwrap_or_default());
            }
            cur = p.parent_id.and_then(|pid| places.get(&pid));
        }
        (places.get(&id).map(|p| p.name.clone()).unwrap_or_default(), String::new())
    };
    // A user placed at a county sees each figure by town too; a town's user never does.
    use taizhang_domain::place::PlaceLevel;
    let county = places.get(&me.user.place_id).is_some_and(|p| p.level == PlaceLevel::County);
    let mut towns: Vec<&taizhang_domain::place::Place> = if county { places.values().filter(|p| p.level == PlaceLevel::Town && p.path.starts_with(&me.scope.path)).collect() } else { Vec::new() };
    towns.sort_by(|a, b| a.code.cmp(&b.code).then(a.id.cmp(&b.id)));
    let paths: std::collections::HashMap<i64, String> = towns.iter().map(|t| (t.id, t.path.clone())).collect();
    let town_of = |id: i64| town_of(&places, id);
    // A count by town of what a place lies in (overdue cases, findings), every town listed.
    let counted = |ids: &[i64], link: &dyn Fn(&str) -> Option<String>| -> serde_json::Value {
        let mut by_town: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        for town in ids.iter().filter_map(|id| town_of(*id)) {
            *by_town.entry(town).or_default() += 1;
        }
        ranked(
            towns
                .iter()
                .map(|t| {
                    let n = by_town.get(&t.id).copied().unwrap_or(0);
                    TownFigure { place_id: t.id, code: t.code.clone().unwrap_or_default(), name: t.name.clone(), value: n, text: n.to_string(), yoy: None, link: link(&t.path) }
                })
                .collect(),
            Better::Lower,
        )
    };
    let mut overdue_places = Vec::new();
    let mut overdue = Vec::new();
    let mut overdue_total = 0i64;
    let mut overdue_by_ledger: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for def in defs.iter().filter(|d| me.may_read_ledger(d) && d.workflow.as_ref().is_some_and(|w| !w.deadlines.is_empty())) {
        let found = records::overdue(tx, def, &me.scope, today).await?;
        overdue_total += found.len() as i64;
        overdue_by_ledger.insert(def.key.clone(), found.len() as i64);
        overdue_places.extend(found.iter().map(|(r, _)| r.place_id));
        for (r, why) in found.into_iter().take(20) {
            let title = record_title(tx, me, def, &r).await;
            let (village, code) = village_of(r.place_id);
            // A county's reader sees cases of every town: each names its town.
            let town = if county { town_of(r.place_id).and_then(|t| places.get(&t)).map(|p| p.name.clone()) } else { None };
            overdue.push(json!({"key": def.key, "name": def.name, "id": r.id, "title": title, "town": town, "village": village, "code": code, "reason": why}));
        }
    }
    // Villages in their code order, then the ledger and the record.
    overdue.sort_by(|a, b| (a["code"].as_str(), a["key"].as_str(), a["id"].as_i64()).cmp(&(b["code"].as_str(), b["key"].as_str(), b["id"].as_i64())));

    let mut cards = Vec::new();
    let mut shown: Vec<&IndicatorDef> = Vec::new();
    let mut missing = Vec::new();
    for name in card_names(tx).await? {
        if name == OVERDUE_CARD {
            let mut c = json!({"kind": "overdue", "name": OVERDUE_CARD, "text": overdue_total.to_string(), "value": overdue_total, "unit": "件", "link": "#overdue", "sub": "各流程超过期限、尚未办结的件数"});
            if county {
                // Overdue is as of today: there is no year before to compare with, nor a page
                // of one town's overdue cases to link to.
                c["towns"] = counted(&overdue_places, &|_| None);
                c["rank_order"] = json!(rank_order(Better::Lower));
            }
            cards.push(c);
            continue;
        }
        if name == CHECKS_CARD {
            // Filled in as each page is answered, from the findings a background run keeps
            // (`checks_card`): running the checks here held a county's page for minutes.
            cards.push(json!({"kind": "checks", "name": CHECKS_CARD, "unit": "条", "link": format!("/checks?period={year}")}));
            continue;
        }
        let (monthly, key) = match name.strip_prefix(THIS_MONTH) {
            Some(rest) => (true, rest.trim()),
            None => (false, name.as_str()),
        };
        let Some(i) = inds.iter().find(|i| i.name == key || i.key == key) else {
            missing.push(name.clone());
            continue;
        };
        let def = eval::ledger_of(i, defs)?;
        let (now_ctx, before_ctx) = if monthly {
            (Context::clamped(month_period(year)?, None, today, me.scope.clone()), Context::clamped(month_period(year - 1)?, None, today, me.scope.clone()))
        } else {
            (ctx_year.clone(), ctx_before.clone())
        };
        let f = eval::evaluate(tx, i, def, &now_ctx).await?;
        let before = eval::evaluate(tx, i, def, &before_ctx).await?;
        let mut c = card(&f);
        if monthly {
            c["name"] = json!(format!("{month}月{}", f.name));
            c["target"] = json!(null);
            c["rate"] = json!(null);
        }
        c["kind"] = json!("indicator");
        c["link"] = json!(format!("/explain/{}?year={year}", f.key));
        // A count of what stands now (no time condition) has no year before to compare with.
        if i.time != taizhang_reports::indicator::TimeMode::None {
            c["yoy"] = json!(year_on_year(f.value, before.value, &f.unit, f.scale));
        }
        c["yoy_label"] = json!(if monthly { format!("比上年{month}月") } else { "比上年同期".to_string() });
        if county {
            let period = if monthly { format!("period={year}-{month:02}") } else { format!("year={year}") };
            c["towns"] = town_figures(tx, i, def, &now_ctx, &before_ctx, &period, &paths, &f.unit, f.scale).await?;
            c["rank_order"] = json!(rank_order(i.better));
        }
        if let Some(n) = overdue_by_ledger.get(&def.key).filter(|n| **n > 0) {
            c["overdue"] = json!(n);
        }
        cards.push(c);
        shown.push(i);
    }
    // Then every figure the town has a target for this year (the 下达指标 it is measured by).
    let targets = taizhang_storage::settings::all(tx).await?;
    for i in inds.iter().filter(|i| targets.contains_key(&(format!("target:{}", i.key), year))).take(8) {
        if shown.iter().any(|s| s.key == i.key) {
            continue;
        }
        let def = eval::ledger_of(i, defs)?;
        let f = eval::evaluate(tx, i, def, &ctx_year).await?;
        let before = eval::evaluate(tx, i, def, &ctx_before).await?;
        let mut c = card(&f);
        c["kind"] = json!("indicator");
        c["link"] = json!(format!("/explain/{}?year={year}", f.key));
        c["yoy"] = json!(year_on_year(f.value, before.value, &f.unit, f.scale));
        c["yoy_label"] = json!("比上年同期");
        if county {
            c["towns"] = town_figures(tx, i, def, &ctx_year, &ctx_before, &format!("year={year}"), &paths, &f.unit, f.scale).await?;
            c["rank_order"] = json!(rank_order(i.better));
        }
        cards.push(c);
        shown.push(i);
    }
    if cards.is_empty() {
        // Nothing chosen: the first figure of each section, as before.
        for i in key_indicators(inds) {
            let def = eval::ledger_of(i, defs)?;
            let f = eval::evaluate(tx, i, def, &ctx_year).await?;
            let mut c = card(&f);
            c["kind"] = json!("indicator");
            c["link"] = json!(format!("/explain/{}?year={year}", i.key));
            if county {
                c["yoy_label"] = json!("比上年同期");
                c["towns"] = town_figures(tx, i, def, &ctx_year, &ctx_before, &format!("year={year}"), &paths, &f.unit, f.scale).await?;
                c["rank_order"] = json!(rank_order(i.better));
            }
            cards.push(c);
            shown.push(i);
        }
    }
    let mut chosen = inds.iter().find(|i| i.key == ind);
    if chosen.is_none() {
        // Without a choice, chart the first card's figure that differs between villages.
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
    let (mut by_month, mut by_village, mut chart_name, mut ind_key) = (String::new(), String::new(), String::new(), String::new());
    if let Some(ind) = chosen {
        let def = eval::ledger_of(ind, defs)?;
        let mut labels = Vec::new();
        let mut months = Vec::new();
        for m in 1..=12 {
            labels.push(format!("{m}月"));
            let period = parse_period(&format!("{year}-{m:02}")).map_err(|e| AppError::bad_request(e.to_string()))?;
            // A month still to come has no figure yet (an enrolment count "as of" it would be
            // today's count shown as the future's).
            if period.start <= today {
                months.push(Context::clamped(period, None, today, me.scope.clone()));
            }
        }
        let f = eval::evaluate(tx, ind, def, &ctx_year).await?;
        let mut values = taizhang_reports::rollup::over_periods(tx, ind, def, &months).await?;
        let mut texts: Vec<String> = values.iter().map(|v| figure_text(*v, &f.unit, f.scale)).collect();
        values.resize(12, 0);
        texts.resize(12, String::new());
        by_month = charts::bars(&labels, &values, &texts);
        // A county's chart goes by town: its villages, hundreds of them, would be unreadable.
        let level = if county { PlaceLevel::Town } else { PlaceLevel::Village };
        let mut villages = eval::by_level(tx, ind, def, &ctx_year, level).await?;
        // Villages in their code order (the order of the county's forms), whatever the query gave.
        villages.sort_by(|a, b| a.code.cmp(&b.code).then(a.place_id.cmp(&b.place_id)));
        by_village = charts::bars(
            &villages.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
            &villages.iter().map(|v| v.value).collect::<Vec<_>>(),
            &villages.iter().map(|v| figure_text(v.value, &f.unit, f.scale)).collect::<Vec<_>>(),
        );
        chart_name = ind.name.clone();
        ind_key = ind.key.clone();
    }
    if !missing.is_empty() {
        cards.push(json!({"kind": "missing", "name": "未找到的卡片", "text": missing.join("、"), "sub": "「首页卡片」参数里的这些名称不是指标名称，请在参数设置中改正"}));
    }
    let mut open = Vec::new();
    let mut open_total = 0;
    for def in defs.iter().filter(|d| d.workflow.is_some()) {
        let Some(wf) = &def.workflow else { continue };
        // Every state's count in one pass over the ledger (no index leads with the state: a
        // count per state read the county's ledger once for each).
        let (cond, args) = records::where_clause(def, &me.scope, &RecordQuery::default())?;
        let sql = format!("SELECT state, COUNT(*) FROM {} WHERE {cond} GROUP BY state", def.table_name());
        let counts: std::collections::HashMap<String, i64> = tx.fetch(&sql, &args).await?.iter().filter_map(|r| r.opt_text(0).map(|st| (st, r.int(1)))).collect();
        for s in wf.states.iter().filter(|s| !s.closed) {
            let n = counts.get(&s.key).copied().unwrap_or(0);
            if n > 0 {
                open_total += n;
                open.push(json!({"key": def.key, "name": def.name, "state": s.key, "label": s.label, "tone": s.tone, "count": n}));
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
        county,
        towns: towns.iter().map(|t| (t.id, t.code.clone().unwrap_or_default(), t.name.clone(), t.path.clone())).collect(),
    })
}

/// The 数据核查发现 card, filled from the findings kept for the reader's scope and the page's
/// year. The checks are never run in the request (on a county they take from seconds to
/// minutes): one background run per scope, year and data version computes them for every
/// reader of that scope, each of whom then counts the findings of the ledgers they may read.
/// Until a run has ended the card says 正在核查…; after a change it shows the last result,
/// saying when it was computed, while a new run goes on (docs/county.md).
fn checks_card(state: &AppState, me: &Me, defs: &[LedgerDef], d: &Dashboard, card: &mut serde_json::Value, today: NaiveDate) {
    let ctx = Context::clamped(Period::year(d.year), None, today, me.scope.clone());
    let Some(key) = crate::cache::findings_key(&ctx) else { return };
    let now = state.cache.findings(&key, me.data_version);
    if now.start {
        start_checks(state.clone(), key, ctx);
    }
    let Some(found) = now.last else {
        card["text"] = json!("正在核查…");
        card["unit"] = json!("");
        card["sub"] = json!("数据核查正在后台进行，稍后刷新本页即可看到结果");
        card["current"] = json!(false);
        return;
    };
    let mine: Vec<usize> = (0..found.found.len()).filter(|i| crate::query::reports::readable(me, defs, &found.found[*i])).collect();
    let n = mine.len() as i64;
    let at = found.at.with_timezone(&chrono::Local);
    let when = if at.date_naive() == today { at.format("%H:%M").to_string() } else { at.format("%m月%d日 %H:%M").to_string() };
    card["text"] = json!(n.to_string());
    card["value"] = json!(n);
    card["current"] = json!(now.current);
    card["sub"] = json!(if now.current {
        format!("数据核查列出的问题（{when} 核查）")
    } else {
        format!("{when} 核查的结果；数据已有变动，正在后台重新核查，稍后刷新本页")
    });
    if d.county {
        // A finding counts in the town of its (first) record or person; one across two towns
        // counts once, where the checks page lists it first.
        let year = d.year;
        let mut by_town: std::collections::HashMap<i64, i64> = std::collections::HashMap::new();
        for town in mine.iter().filter_map(|i| found.towns[*i]) {
            *by_town.entry(town).or_default() += 1;
        }
        card["towns"] = ranked(
            d.towns
                .iter()
                .map(|(id, code, name, path)| {
                    let n = by_town.get(id).copied().unwrap_or(0);
                    let link = Some(format!("/checks?period={year}&place={}", crate::guard::encode(path)));
                    TownFigure { place_id: *id, code: code.clone(), name: name.clone(), value: n, text: n.to_string(), yoy: None, link }
                })
                .collect(),
            Better::Lower,
        );
        card["rank_order"] = json!(rank_order(Better::Lower));
    }
}

/// Runs every check over `ctx` in a task of its own and keeps the findings under `key`; one
/// such run at a time (`Cache::checking`).
fn start_checks(state: AppState, key: String, ctx: Context) {
    /// Marks the key as no longer running should the run end without findings (an error, a
    /// panic), so that a later request starts another.
    struct Running {
        state: AppState,
        key: String,
        done: bool,
    }
    impl Drop for Running {
        fn drop(&mut self) {
            if !self.done {
                self.state.cache.findings_failed(&self.key);
            }
        }
    }
    tokio::spawn(async move {
        let mut running = Running { state: state.clone(), key, done: false };
        let _one_at_a_time = state.cache.checking.lock().await;
        match run_checks(&state, &ctx).await {
            Ok(f) => {
                state.cache.keep_findings(&running.key, Arc::new(f));
                running.done = true;
            }
            Err(e) => eprintln!("台账服务内部错误：首页的数据核查未能完成：{}", e.message),
        }
    });
}

/// Every check's findings over `ctx`, with the data version they are of and each one's town.
/// The town a place lies in (itself if it is one), by walking up the place tree.
fn town_of(places: &std::collections::HashMap<i64, taizhang_domain::place::Place>, id: i64) -> Option<i64> {
    let mut cur = places.get(&id);
    while let Some(p) = cur {
        if p.level == taizhang_domain::place::PlaceLevel::Town {
            return Some(p.id);
        }
        cur = p.parent_id.and_then(|pid| places.get(&pid));
    }
    None
}

async fn run_checks(state: &AppState, ctx: &Context) -> AppResult<crate::cache::Findings> {
    let mut tx = state.db.read().await?;
    // The version first: whatever the checks read is at least this new.
    let version = crate::cache::data_version(&mut tx).await?;
    let defs = crate::query::all_defs(&mut tx).await?;
    let list = taizhang_reports::checks::builtin()?;
    let found = taizhang_reports::checks::run_all(&mut tx, &list, &defs, ctx).await?;
    let places: std::collections::HashMap<i64, taizhang_domain::place::Place> =
        taizhang_storage::places::subtree(&mut tx, &Scope::all()).await?.into_iter().map(|p| (p.id, p)).collect();
    let town_of = |id: i64| town_of(&places, id);
    let towns = found.iter().map(|f| f.place_id.and_then(town_of)).collect();
    Ok(crate::cache::Findings::new(version, found, towns))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn town(place_id: i64, code: &str, value: i64) -> TownFigure {
        TownFigure { place_id, code: code.into(), name: format!("镇{place_id}"), value, text: value.to_string(), yoy: None, link: None }
    }

    /// Four towns given out of code order; two share a value.
    fn towns() -> Vec<TownFigure> {
        vec![town(4, "431224113000", 5), town(1, "431224110000", 2), town(3, "431224112000", 7), town(2, "431224111000", 5)]
    }

    /// (rank, place id) of each row, in order.
    fn order(v: &serde_json::Value) -> Vec<(i64, i64)> {
        v.as_array().expect("rows").iter().map(|r| (r["rank"].as_i64().expect("rank"), r["id"].as_i64().expect("id"))).collect()
    }

    #[test]
    fn towns_rank_highest_first_ties_sharing_a_rank_in_code_order() {
        assert_eq!(order(&ranked(towns(), Better::Higher)), [(1, 3), (2, 2), (2, 4), (4, 1)]);
    }

    #[test]
    fn towns_rank_lowest_first_where_fewer_is_better_ties_in_code_order() {
        assert_eq!(order(&ranked(towns(), Better::Lower)), [(1, 1), (2, 2), (2, 4), (4, 3)]);
        // All equal: one rank, code order.
        let same = vec![town(2, "431224111000", 0), town(1, "431224110000", 0)];
        assert_eq!(order(&ranked(same, Better::Lower)), [(1, 1), (1, 2)]);
    }

    #[test]
    fn the_ranking_says_which_way_it_goes() {
        assert_eq!(rank_order(Better::Higher), "由高到低");
        assert_eq!(rank_order(Better::Lower), "由低到高（越少越好）");
    }
}
