//! `record …` and `setting …`.

use taizhang_domain::ledger::{RefTarget, SubjectKind};
use taizhang_domain::period::{parse_date_lenient, parse_period, Period};
use taizhang_domain::value::RecordInput;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{ledgers, places, refs, settings, Scope, Tx};

use super::print_json;
use crate::args::{PeriodArgs, RecordCmd, SettingCmd};
use crate::context::Ctx;

fn pairs(fields: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    fields
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| anyhow::anyhow!("「{f}」应写作 字段=值"))
        })
        .collect()
}

/// The period and as-of date the common flags name, and the scope narrowed to `--place`.
pub async fn query_scope(tx: &mut Tx, ctx: &Ctx, p: &PeriodArgs) -> anyhow::Result<(Option<Period>, Option<chrono::NaiveDate>, Scope)> {
    let period = match (&p.year, &p.period) {
        (Some(y), _) => Some(Period::year(*y)),
        (None, Some(s)) => Some(parse_period(s).map_err(|e| anyhow::anyhow!("「期间」{e}"))?),
        _ => None,
    };
    let as_of = match &p.as_of {
        Some(d) => Some(parse_date_lenient(d).map_err(|e| anyhow::anyhow!("「时点」{e}"))?),
        None => None,
    };
    let scope = match &p.place {
        Some(text) => {
            let place = places::resolve(tx, &ctx.scope, text).await?;
            Scope { path: place.path }
        }
        None => ctx.scope.clone(),
    };
    Ok((period, as_of, scope))
}

pub async fn record(ctx: &Ctx, cmd: RecordCmd) -> anyhow::Result<()> {
    match cmd {
        RecordCmd::Add { ledger, subject, place, concerns_year, fields } => {
            let mut tx = ctx.db.begin().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let subject_id = match (RefTarget::of_subject(def.subject), subject) {
                (Some(t), Some(s)) => Some(refs::resolve(&mut tx, &ctx.scope, &t, &s).await?),
                (None, Some(_)) => anyhow::bail!("「{}」的记录没有记录对象，不用填 --subject", def.name),
                (Some(_), None) => anyhow::bail!("「{}」的记录需要 --subject（{}）", def.name, def.subject.label()),
                (None, None) => None,
            };
            let place_id = match place {
                Some(p) => Some(places::resolve(&mut tx, &ctx.scope, &p).await?.id),
                None if def.subject == SubjectKind::None => anyhow::bail!("「{}」的记录需要 --place（所属村或镇）", def.name),
                None => None,
            };
            let values = refs::parse_values(&mut tx, &ctx.scope, &def, &pairs(&fields)?, ctx.today).await?;
            let rec = records::create(&mut tx, &def, &ctx.actor, &ctx.scope, RecordInput { place_id, subject_id, concerns_year, values }, ctx.today).await?;
            tx.commit().await?;
            println!("已新增「{}」记录，编号 {}，版本 {}", def.name, rec.id, rec.row_version);
        }
        RecordCmd::Update { ledger, id, version, fields } => {
            let mut tx = ctx.db.begin().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let values = refs::parse_values(&mut tx, &ctx.scope, &def, &pairs(&fields)?, ctx.today).await?;
            let rec = records::update(&mut tx, &def, &ctx.actor, &ctx.scope, id, version, values, ctx.today).await?;
            tx.commit().await?;
            println!("已修改记录 {}，版本 {}", rec.id, rec.row_version);
        }
        RecordCmd::Transition { ledger, id, transition, version, on, fields } => {
            let mut tx = ctx.db.begin().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let on = match on {
                Some(d) => parse_date_lenient(&d).map_err(|e| anyhow::anyhow!("「办理日期」{e}"))?,
                None => ctx.today,
            };
            let values = refs::parse_values(&mut tx, &ctx.scope, &def, &pairs(&fields)?, ctx.today).await?;
            let all = settings::all(&mut tx).await?;
            let rec = records::transition(&mut tx, &def, &ctx.actor, &ctx.scope, id, version, &transition, values, on, &all).await?;
            tx.commit().await?;
            let label = def.workflow.as_ref().map(|w| w.state_label(rec.state.as_deref().unwrap_or("")).to_string()).unwrap_or_default();
            println!("记录 {} 已办理，当前状态：{label}，版本 {}", rec.id, rec.row_version);
        }
        RecordCmd::Delete { ledger, id, version } => {
            let mut tx = ctx.db.begin().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            records::delete(&mut tx, &def, &ctx.actor, &ctx.scope, id, version).await?;
            tx.commit().await?;
            println!("已删除记录 {id}");
        }
        RecordCmd::List { ledger, period, state, limit, json } => {
            let mut tx = ctx.db.read().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let (period, as_of, scope) = query_scope(&mut tx, ctx, &period).await?;
            let q = RecordQuery { period, as_of, state, limit: Some(limit), ..Default::default() };
            let list = records::list(&mut tx, &def, &scope, &q).await?;
            if json {
                return print_json(&list);
            }
            for r in &list {
                let vals: Vec<String> = def
                    .active_fields()
                    .filter_map(|f| r.values.get(&f.key).map(|v| format!("{}={}", f.label, serde_json::to_string(v).unwrap_or_default())))
                    .collect();
                println!("{}\t{}\t{}", r.id, r.state.clone().unwrap_or_default(), vals.join(" "));
            }
            println!("共 {} 条", list.len());
        }
        RecordCmd::Overdue { ledger, place, json } => {
            let mut tx = ctx.db.read().await?;
            let defs = match ledger {
                Some(k) => vec![ledgers::get(&mut tx, &k).await?],
                None => ledgers::all(&mut tx).await?,
            };
            let flags = PeriodArgs { place, ..Default::default() };
            let (_, _, scope) = query_scope(&mut tx, ctx, &flags).await?;
            let mut rows = Vec::new();
            for def in defs.iter().filter(|d| d.workflow.as_ref().is_some_and(|w| !w.deadlines.is_empty())) {
                for (r, why) in records::overdue(&mut tx, def, &scope, ctx.today).await? {
                    rows.push(serde_json::json!({ "ledger": def.key, "ledger_name": def.name, "id": r.id, "state": r.state, "reason": why }));
                }
            }
            if json {
                return print_json(&rows);
            }
            for r in &rows {
                println!("{}\t{}\t{}", r["ledger_name"].as_str().unwrap_or_default(), r["id"], r["reason"].as_str().unwrap_or_default());
            }
            println!("逾期 {} 条", rows.len());
        }
        RecordCmd::Count { ledger, period, state } => {
            let mut tx = ctx.db.read().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let (period, as_of, scope) = query_scope(&mut tx, ctx, &period).await?;
            let q = RecordQuery { period, as_of, state, ..Default::default() };
            println!("{}", records::count(&mut tx, &def, &scope, &q).await?);
        }
    }
    Ok(())
}

pub async fn setting(ctx: &Ctx, cmd: SettingCmd) -> anyhow::Result<()> {
    match cmd {
        SettingCmd::Set { key, year, value } => {
            let mut tx = ctx.db.begin().await?;
            let kind = setting_kind(&mut tx, &key).await?;
            let stored = kind.parse(&value).map_err(|e| anyhow::anyhow!("「参数值」{e}"))?;
            settings::set(&mut tx, &ctx.actor, &key, year, stored).await?;
            tx.commit().await?;
            println!("已设置 {key}（{year} 年）= {}", kind.show(stored));
        }
        SettingCmd::List => {
            let mut tx = ctx.db.read().await?;
            for ((k, y), v) in settings::all(&mut tx).await? {
                let kind = setting_kind(&mut tx, &k).await?;
                println!("{k}\t{y}\t{}", kind.show(v));
            }
        }
    }
    Ok(())
}

/// How a setting's value is written and stored: money in 分, a decimal at its scale, or a
/// plain integer (days, counts, 1/0 switches).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SettingKind {
    Money,
    Scaled(u8),
    Integer,
}

impl SettingKind {
    fn parse(self, text: &str) -> Result<i64, String> {
        let t = text.trim();
        match self {
            SettingKind::Money => taizhang_domain::money::parse_money(t).map(|f| f.0).map_err(|e| e.to_string()),
            SettingKind::Scaled(s) => taizhang_domain::money::parse_scaled(t, s).map_err(|e| e.to_string()),
            SettingKind::Integer => match t {
                "是" | "开" | "true" => Ok(1),
                "否" | "关" | "false" => Ok(0),
                _ => t.parse::<i64>().map_err(|_| format!("「{t}」不是整数")),
            },
        }
    }

    fn show(self, v: i64) -> String {
        match self {
            SettingKind::Money => taizhang_domain::money::format_yuan(taizhang_domain::money::Fen(v)),
            SettingKind::Scaled(s) => taizhang_domain::money::format_scaled(v, s),
            SettingKind::Integer => v.to_string(),
        }
    }
}

/// `target:<indicator>` takes the indicator's unit (元 → money, a decimal sum → its scale,
/// anything else → an integer); `check:` and `rule:` settings are integers; the rest (such as
/// monitoring_line, the 监测标准 in 元) are money.
async fn setting_kind(tx: &mut Tx, key: &str) -> anyhow::Result<SettingKind> {
    if let Some(ind_key) = key.strip_prefix("target:") {
        let inds = taizhang_reports::indicator::builtin()?;
        let Some(ind) = inds.iter().find(|i| i.key == ind_key) else {
            anyhow::bail!("「参数名」没有指标「{ind_key}」（taizhang indicators 列出全部指标）");
        };
        if ind.unit.contains('元') {
            return Ok(SettingKind::Money);
        }
        let def = ledgers::get(tx, &ind.ledger).await?;
        let scale = ind.measure()?.scale(&def);
        return Ok(if scale > 0 { SettingKind::Scaled(scale) } else { SettingKind::Integer });
    }
    if key.starts_with("check:") || key.starts_with("rule:") {
        return Ok(SettingKind::Integer);
    }
    Ok(SettingKind::Money)
}
