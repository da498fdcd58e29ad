//! 参数设置 (administrators): every setting a rule, check or report reads, grouped as the
//! catalogue groups them, each with its label, unit and help and its value for the chosen year;
//! 下达指标 in a section of their own. Saved through `settings::set_value`, which audits it. A
//! setting's internal key never appears on the page: the form names a setting by its label.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Datelike;
use serde::Deserialize;
use serde_json::{json, Value as J};
use taizhang_domain::setting::{SettingDef, SettingKind, SettingValue, ALL_YEARS};
use taizhang_reports::settings::TARGET_PREFIX;
use taizhang_storage::settings::{self, StoredSetting};

use crate::query::settings::{catalogue, edit_text, save};
use crate::auth::Me;
use crate::error::AppResult;
use crate::forms::{self, Attempt};
use crate::{views, AppState};

type Pairs = Vec<(String, String)>;

/// Where the value in force for `year` comes from.
fn source(def: &SettingDef, stored: &[StoredSetting], year: i32) -> (&'static str, Option<SettingValue>) {
    let find = |y: i32| stored.iter().find(|s| s.key == def.key && s.year == y).map(|s| s.value.clone());
    if def.per_year {
        if let Some(v) = find(year) {
            return ("本年度", Some(v));
        }
    }
    if let Some(v) = find(ALL_YEARS) {
        return (if def.per_year { "各年通用" } else { "" }, Some(v));
    }
    match def.default_value() {
        Some(v) => ("默认", Some(v)),
        None => ("未设置", None),
    }
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    #[serde(default)]
    year: Option<i32>,
    /// The position of the setting just saved, for the notice.
    #[serde(default)]
    saved: Option<usize>,
}

pub async fn page(State(state): State<AppState>, me: Me, Query(q): Query<SettingsQuery>) -> AppResult<Response> {
    render(&state, &me, q.year, q.saved, Attempt::default(), StatusCode::OK).await
}

async fn render(state: &AppState, me: &Me, year: Option<i32>, saved: Option<usize>, attempt: Attempt, status: StatusCode) -> AppResult<Response> {
    let mut tx = state.db.read().await?;
    let defs = super::all_defs(&mut tx).await?;
    let today = state.today();
    // Without a year asked for: the latest year with records (what the town is working on).
    let year = match year.filter(|y| (1990..=2100).contains(y)) {
        Some(y) => y,
        None => super::dashboard::latest_year(&mut tx, &me.scope, &defs, today).await?,
    };
    let all = catalogue(&mut tx).await?;
    let stored = settings::list(&mut tx).await?;
    let mut groups: Vec<(String, Vec<J>)> = Vec::new();
    // Targets by the summary's sections (一、…, 二、…), as the indicators list them.
    let mut targets: Vec<(String, Vec<J>)> = Vec::new();
    let indicators = crate::query::reports::indicators()?;
    let mut targets_set = 0;
    let mut targets_open = false;
    for (i, def) in all.iter().enumerate() {
        // The security policy is set on its own page, by the 安全管理员.
        if def.group == taizhang_domain::security::GROUP {
            continue;
        }
        let (from, value) = source(def, &stored, year);
        let is_target = def.key.starts_with(TARGET_PREFIX);
        let here = attempt.form == def.label;
        let row = json!({
            "n": i,
            "label": def.label,
            "unit": def.unit,
            "help": def.help,
            "kind": def.kind.label(),
            "switch": def.kind == SettingKind::Switch,
            "per_year": def.per_year,
            "shown": value.as_ref().map(|v| def.show(v)).unwrap_or_default(),
            "source": from,
            "edit": value.as_ref().map(|v| edit_text(def, v)).unwrap_or_default(),
            "target": is_target,
            "typed": if here { attempt.values.get("value").cloned() } else { None },
            "error": if here { attempt.errors.get("value").cloned().unwrap_or_else(|| attempt.message.clone()) } else { String::new() },
        });
        if is_target {
            targets_set += usize::from(from == "本年度" || from == "各年通用");
            targets_open |= here || saved == Some(i);
            let ind = indicators.iter().find(|ind| def.key.strip_prefix(TARGET_PREFIX) == Some(ind.key.as_str()));
            let section = ind.map_or_else(String::new, |ind| ind.section.clone());
            let mut row = row;
            row["name"] = json!(ind.map_or_else(|| def.label.clone(), |ind| ind.name.clone()));
            match targets.iter_mut().find(|(s, _)| *s == section) {
                Some((_, rows)) => rows.push(row),
                None => targets.push((section, vec![row])),
            }
        } else {
            let group = if def.group.is_empty() { "其他".to_string() } else { def.group.clone() };
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((group, vec![row])),
            }
        }
    }
    let notice = saved.and_then(|i| all.get(i)).map(|d| {
        if d.per_year { format!("已保存「{}」（{year} 年）", d.label) } else { format!("已保存「{}」", d.label) }
    });
    let first = (today.year() - 6).min(year);
    let last = (today.year() + 1).max(year);
    let mut ctx = views::layout(me, &defs, "参数设置", &[("系统管理", ""), ("参数设置", "")]);
    ctx.insert("group".into(), json!("系统管理"));
    ctx.insert("year".into(), json!(year));
    ctx.insert("years".into(), json!((first..=last).rev().collect::<Vec<_>>()));
    ctx.insert("groups".into(), json!(groups.into_iter().map(|(name, rows)| json!({"name": name, "rows": rows})).collect::<Vec<_>>()));
    let count: usize = targets.iter().map(|(_, rows)| rows.len()).sum();
    ctx.insert("targets".into(), json!(targets.into_iter().map(|(name, rows)| json!({"name": name, "rows": rows})).collect::<Vec<_>>()));
    ctx.insert("targets_count".into(), json!(count));
    ctx.insert("targets_set".into(), json!(targets_set));
    ctx.insert("targets_open".into(), json!(targets_open));
    ctx.insert("notice".into(), json!(notice.unwrap_or_default()));
    Ok((status, views::render("settings.html", &ctx.into())?).into_response())
}

pub async fn update(State(state): State<AppState>, me: Me, Form(form): Form<Pairs>) -> AppResult<Response> {
    let name = forms::text(&form, "setting");
    let year = forms::get(&form, "year").and_then(|y| y.trim().parse::<i32>().ok());
    let mut tx = state.db.begin().await?;
    let all = catalogue(&mut tx).await?;
    match save(&mut tx, &me, &all, &name, year, &forms::text(&form, "value")).await {
        Ok((def, _)) => {
            tx.commit().await?;
            let n = all.iter().position(|d| d.key == def.key).unwrap_or(0);
            let year = year.map(|y| format!("year={y}&")).unwrap_or_default();
            Ok(Redirect::to(&format!("/admin/settings?{year}saved={n}#s{n}")).into_response())
        }
        Err(problem) => {
            drop(tx);
            let attempt = Attempt { form: name, ..Attempt::new("", &form, &problem, &["value"]) };
            render(&state, &me, year, None, attempt, problem.status).await
        }
    }
}
