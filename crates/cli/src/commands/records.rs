//! `record …` and `setting …`.

use taizhang_domain::ledger::{RefTarget, SubjectKind};
use taizhang_domain::period::{parse_date_lenient, parse_period, Period};
use taizhang_domain::value::RecordInput;
use taizhang_storage::records::{self, RecordQuery, Voids};
use taizhang_storage::{attachments, ledgers, places, refs, settings, Scope, Tx};

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
        RecordCmd::Void { ledger, id, reason, version } => {
            let mut tx = ctx.db.begin().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let version = match version {
                Some(v) => v,
                None => records::get(&mut tx, &def, &ctx.scope, id).await?.row_version,
            };
            let rec = records::void(&mut tx, &def, &ctx.actor, &ctx.scope, id, version, &reason).await?;
            tx.commit().await?;
            println!("已作废「{}」第 {} 号记录（原因：{}）；它不再计入列表、统计、核查和报告，管理员可恢复", def.name, rec.id, reason.trim());
        }
        RecordCmd::Attach { ledger, id, files } => {
            let mut tx = ctx.db.begin().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let limit = attachments::max_bytes(&mut tx).await?;
            // All the files or none: one transaction, committed after the last.
            let mut added = Vec::new();
            for f in &files {
                let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let size = std::fs::metadata(f).map_err(|e| anyhow::anyhow!("无法读取「{}」：{e}", f.display()))?.len();
                // Refused before the file is read into memory.
                if let Some(why) = attachments::refusal(&name, usize::try_from(size).unwrap_or(usize::MAX), limit) {
                    anyhow::bail!(why);
                }
                let bytes = std::fs::read(f).map_err(|e| anyhow::anyhow!("无法读取「{}」：{e}", f.display()))?;
                added.push(attachments::add(&mut tx, &def, &ctx.actor, &ctx.scope, id, &name, &bytes).await?);
            }
            tx.commit().await?;
            for a in added {
                println!("已上传佐证材料「{}」（{}，SHA-256 {}）到「{}」第 {id} 号记录", a.file_name, attachments::size_text(a.size_bytes), a.sha256, def.name);
            }
        }
        RecordCmd::Attachments { ledger, id, json } => {
            let mut tx = ctx.db.read().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let list = attachments::list(&mut tx, &def, &ctx.scope, id, true).await?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!("「{}」第 {id} 号记录没有佐证材料", def.name);
            } else {
                for a in &list {
                    let removed = a.voided.as_ref().map_or(String::new(), |v| format!("，已撤下（{}：{}）", v.by, v.reason));
                    println!("#{} {}（{}，{} 上传于 {}，SHA-256 {}）{removed}", a.id, a.file_name, attachments::size_text(a.size_bytes), a.created_by, records::local_time(&a.created_at), a.sha256);
                }
            }
        }
        RecordCmd::Restore { ledger, id, version } => {
            let mut tx = ctx.db.begin().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let version = match version {
                Some(v) => v,
                None => records::get(&mut tx, &def, &ctx.scope, id).await?.row_version,
            };
            let rec = records::restore(&mut tx, &def, &ctx.actor, &ctx.scope, id, version).await?;
            tx.commit().await?;
            println!("已恢复「{}」第 {} 号记录，版本 {}", def.name, rec.id, rec.row_version);
        }
        RecordCmd::List { ledger, period, state, voided, limit, json } => {
            let mut tx = ctx.db.read().await?;
            let def = ledgers::get(&mut tx, &ledger).await?;
            let (period, as_of, scope) = query_scope(&mut tx, ctx, &period).await?;
            let voids = match voided.as_deref() {
                Some("include") => Voids::Include,
                Some("only") => Voids::Only,
                _ => Voids::Exclude,
            };
            let q = RecordQuery { period, as_of, state, limit: Some(limit), voids, ..Default::default() };
            let list = records::list(&mut tx, &def, &scope, &q).await?;
            drop(tx);
            // As whoever runs it (`--as`): a ledger they may not read is not there, marked values
            // through their masking policy, and the read leaves its entry.
            let policy = taizhang_domain::masking::Policy::for_actor(&ctx.actor);
            if let taizhang_domain::role::Actor::User { id, place_id, .. } = &ctx.actor {
                let mut tx = ctx.db.begin().await?;
                let u = taizhang_storage::users::get(&mut tx, *id).await?;
                if !taizhang_domain::masking::may_read_ledger(u.role, &u.ledgers, &def) {
                    anyhow::bail!("台账「{}」不存在", def.key);
                }
                if taizhang_domain::masking::reads_audited(&def) {
                    let read = taizhang_storage::reads::Read {
                        entity: def.table_name(),
                        ids: list.iter().map(|r| r.id).collect(),
                        persons: if def.subject == taizhang_domain::ledger::SubjectKind::Person { list.iter().filter_map(|r| r.subject_id).collect() } else { Vec::new() },
                        places: list.iter().map(|r| r.place_id).collect(),
                        scope_place: Some(*place_id),
                        filter: String::new(),
                        what: "命令行记录列表".into(),
                    };
                    taizhang_storage::reads::note(&mut tx, &ctx.actor, &read).await?;
                }
                tx.commit().await?;
            }
            let mut list = list;
            for r in &mut list {
                let mut j = serde_json::json!({"values": r.values});
                policy.redact_record_json(&def, &mut j);
                r.values = serde_json::from_value(j["values"].take()).unwrap_or_default();
            }
            // Each record with its village and its person or household, named as the reader
            // may see them, and its state by its label.
            let mut tx = ctx.db.read().await?;
            let mut places = std::collections::HashMap::new();
            let mut trail = Vec::with_capacity(list.len());
            for r in &list {
                let village = super::trail::village_of(&mut tx, &mut places, r.place_id).await?;
                let subject = super::trail::subject_of(&mut tx, &scope, &policy, &def, r.subject_id).await;
                let state = def.workflow.as_ref().zip(r.state.as_deref()).map(|(w, s)| w.state_label(s).to_string()).unwrap_or_default();
                // References by the name they point at, for the text.
                let mut named = std::collections::HashMap::new();
                for f in def.active_fields().filter(|f| f.kind == taizhang_domain::ledger::FieldKind::Reference) {
                    if let (Some(taizhang_domain::value::Value::Int(id)), Some(t)) = (r.values.get(&f.key), f.target.as_ref()) {
                        if let Some(name) = taizhang_storage::refs::label(&mut tx, &scope, t, *id).await? {
                            named.insert(f.key.clone(), name);
                        }
                    }
                }
                trail.push((village, subject, state, named));
            }
            drop(tx);
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .zip(&trail)
                    .map(|(r, (village, subject, state, _))| {
                        let mut j = serde_json::to_value(r).unwrap_or_default();
                        j["village"] = serde_json::json!(village);
                        j["subject"] = serde_json::json!(subject);
                        j["state_label"] = serde_json::json!(state);
                        j
                    })
                    .collect();
                return print_json(&rows);
            }
            for (r, (village, subject, state, named)) in list.iter().zip(&trail) {
                let vals: Vec<String> = def
                    .active_fields()
                    .filter_map(|f| {
                        let v = r.values.get(&f.key)?;
                        Some(format!("{}={}", f.label, named.get(&f.key).cloned().unwrap_or_else(|| serde_json::to_string(v).unwrap_or_default())))
                    })
                    .collect();
                let void = r.voided.as_ref().map(|v| format!("\t已作废（{}，{}）", v.by, v.reason)).unwrap_or_default();
                let dash = |t: &str| if t.is_empty() { "—".to_string() } else { t.to_string() };
                println!("{}\t{}\t{}\t{}\t{}{void}", r.id, dash(state), dash(village), dash(subject), vals.join(" "));
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
    let mut tx = ctx.db.begin().await?;
    let defs = ledgers::all(&mut tx).await?;
    let catalogue = taizhang_reports::settings::catalogue(&taizhang_reports::indicator::builtin()?, &defs)?;
    match cmd {
        SettingCmd::Set { name, rest } => {
            let def = taizhang_reports::settings::find(&catalogue, &name).ok_or_else(|| {
                if let Some(ind) = name.strip_prefix(taizhang_reports::settings::TARGET_PREFIX) {
                    anyhow::anyhow!("「参数名称」没有指标「{ind}」（taizhang indicators 列出全部指标）")
                } else {
                    anyhow::anyhow!("「参数名称」没有「{name}」这个参数（taizhang setting list 列出全部参数）")
                }
            })?;
            let (year, value) = match (rest.as_slice(), def.per_year) {
                ([y, v], true) => (y.trim().trim_end_matches('年').parse::<i32>().map_err(|_| anyhow::anyhow!("「年度」「{y}」不是年份"))?, v),
                ([_], true) => anyhow::bail!("「年度」「{}」按年度设置，请写明年度，如 setting set {} 2024 值", def.label, def.label),
                ([v], false) => (taizhang_domain::setting::ALL_YEARS, v),
                (_, false) => anyhow::bail!("「年度」「{}」不分年度，只写值即可", def.label),
                _ => anyhow::bail!("应写作 setting set 名称 [年度] 值"),
            };
            let stored = def.parse(value).map_err(|e| anyhow::anyhow!("「{}」{e}", def.label))?;
            // 三员分立: with --as, the security policy is the 安全管理员's and the rest the
            // 系统管理员's (without it: the server's operator).
            if let taizhang_domain::role::Actor::User { role, .. } = &ctx.actor {
                let policy = def.group == taizhang_domain::security::GROUP;
                if if policy { !role.sets_security_policy() } else { role.is_officer() } {
                    anyhow::bail!("「{}」只能由{}设置", def.label, if policy { "安全管理员" } else { "系统管理员" });
                }
            }
            if let taizhang_domain::setting::SettingValue::Number(n) = stored {
                taizhang_domain::security::check_value(&def.key, n).map_err(|e| anyhow::anyhow!("「{}」{e}", def.label))?;
            }
            settings::set_value(&mut tx, &ctx.actor, def, year, &stored).await?;
            tx.commit().await?;
            let when = if def.per_year { format!("{year} 年") } else { "各年度".to_string() };
            println!("已设置「{}」（{when}）= {}", def.label, def.show(&stored));
        }
        SettingCmd::List { json, targets } => {
            let stored = settings::list(&mut tx).await?;
            let shown: Vec<_> = catalogue
                .iter()
                .filter(|d| targets || !d.key.starts_with(taizhang_reports::settings::TARGET_PREFIX) || stored.iter().any(|s| s.key == d.key))
                .collect();
            if json {
                let rows: Vec<_> = shown
                    .iter()
                    .map(|d| {
                        let values: Vec<_> = stored
                            .iter()
                            .filter(|s| s.key == d.key)
                            .map(|s| serde_json::json!({ "year": s.year, "value": s.value, "shown": d.show(&s.value) }))
                            .collect();
                        serde_json::json!({ "key": d.key, "label": d.label, "kind": d.kind, "unit": d.unit, "per_year": d.per_year, "group": d.group, "help": d.help, "default": d.default, "values": values })
                    })
                    .collect();
                return print_json(&rows);
            }
            for d in shown {
                let values: Vec<String> = stored
                    .iter()
                    .filter(|s| s.key == d.key)
                    .map(|s| if s.year == taizhang_domain::setting::ALL_YEARS { d.show(&s.value) } else { format!("{} 年 {}", s.year, d.show(&s.value)) })
                    .collect();
                let values = if values.is_empty() {
                    d.default.as_ref().map_or("未设置".to_string(), |v| format!("未设置（默认 {v}）"))
                } else {
                    values.join("；")
                };
                println!("{}\t{values}\t{}", d.label, d.help);
            }
        }
    }
    Ok(())
}
