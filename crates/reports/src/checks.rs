//! Data checks (数据检查): data in `catalogue/checks/*.toml`, each a named SQL-backed kind with
//! parameters, reporting the offending records with a Chinese message.
//!
//! Kinds: `duplicate_in_period`, `paid_after_death`, `destitute_with_dibao`, `overdue_open`,
//! `no_recent_visit`, `duplicate_persons`.

use std::collections::BTreeMap;

use chrono::Duration;
use serde::{Deserialize, Serialize};
use taizhang_domain::ledger::{FieldKind, LedgerDef, SubjectKind, TimeModel};
use taizhang_storage::ledgers::quote;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{settings, Arg, Engine, Row, Tx};

use crate::error::{ReportError, Result};
use crate::eval::Context;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckFile {
    #[serde(default)]
    check: Vec<CheckDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The same subject more than once in one ledger with equal `fields` (e.g. the same month).
    DuplicateInPeriod,
    /// Records dated after the subject's death (household ledgers: the head's death).
    PaidAfterDeath,
    /// A person paid 特困 (`ledger`) and their household paid 低保 (`other_ledger`) for the same
    /// month; off when the setting named by `setting` is 1 for the year.
    DestituteWithDibao,
    /// Records past `deadline_field` (before the as-of day) and not in `closed_states`.
    OverdueOpen,
    /// Standing records (as of the day) whose subject has no record in `other_ledger` within
    /// N days (setting `setting`, default `default_days`).
    NoRecentVisit,
    /// Persons with the same name and birth date but different ID numbers.
    DuplicatePersons,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    pub key: String,
    /// Chinese name of the check.
    pub name: String,
    pub kind: CheckKind,
    #[serde(default)]
    pub ledger: Option<String>,
    #[serde(default)]
    pub other_ledger: Option<String>,
    /// Fields that together with the subject must be unique.
    #[serde(default)]
    pub fields: Vec<String>,
    #[serde(default)]
    pub deadline_field: Option<String>,
    /// Field equals value (text form).
    #[serde(default)]
    pub equals: BTreeMap<String, String>,
    #[serde(default)]
    pub closed_states: Vec<String>,
    /// States of `ledger` left out.
    #[serde(default)]
    pub skip_states: Vec<String>,
    #[serde(default)]
    pub setting: Option<String>,
    #[serde(default)]
    pub default_days: Option<i64>,
    #[serde(default)]
    pub help: String,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    pub check_name: String,
    pub message: String,
    /// Ledger of `record_ids` (empty for person checks).
    pub ledger: String,
    pub record_ids: Vec<i64>,
    pub person_ids: Vec<i64>,
}

pub fn parse_file(text: &str) -> Result<Vec<CheckDef>> {
    let f: CheckFile = toml::from_str(text).map_err(|e| ReportError::Check(e.to_string()))?;
    Ok(f.check)
}

/// Every built-in check.
pub fn builtin() -> Result<Vec<CheckDef>> {
    let mut all: Vec<CheckDef> = Vec::new();
    for (path, text) in taizhang_domain::catalogue::text_files("checks/").filter(|(p, _)| p.ends_with(".toml")) {
        for d in parse_file(text).map_err(|e| ReportError::Check(format!("{path}：{e}")))? {
            if all.iter().any(|a| a.key == d.key) {
                return Err(ReportError::Check(format!("{path}：检查键「{}」重复", d.key)));
            }
            all.push(d);
        }
    }
    Ok(all)
}

fn ledger<'a>(c: &CheckDef, key: Option<&String>, ledgers: &'a [LedgerDef]) -> Result<&'a LedgerDef> {
    let key = key.ok_or_else(|| ReportError::Check(format!("检查「{}」缺少台账", c.key)))?;
    ledgers
        .iter()
        .find(|l| &l.key == key)
        .ok_or_else(|| ReportError::Check(format!("检查「{}」引用了不存在的台账「{key}」", c.key)))
}

fn time_field(def: &LedgerDef) -> &str {
    match &def.time {
        TimeModel::Event { field } => field,
        TimeModel::Standing { start, .. } => start,
    }
}

/// Renumbers `$n` placeholders by `offset` so two where-clauses can share one statement.
fn shift_params(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            out.push_str(&format!("${}", n.parse::<usize>().unwrap_or(0) + offset));
        } else {
            out.push(c);
        }
    }
    out
}

fn null_eq(engine: Engine, a: &str, b: &str) -> String {
    match engine {
        Engine::Sqlite => format!("{a} IS {b}"),
        Engine::Postgres => format!("{a} IS NOT DISTINCT FROM {b}"),
    }
}

async fn subject_name(tx: &mut Tx, kind: SubjectKind, id: Option<i64>) -> Result<String> {
    let Some(id) = id else { return Ok("（无对象）".into()) };
    let row = match kind {
        SubjectKind::Person => tx.fetch_opt("SELECT name FROM persons WHERE id = $1", &[Arg::Int(id)]).await?,
        SubjectKind::Household => {
            tx.fetch_opt(
                "SELECT COALESCE(p.name, '') || '户（' || h.number || '）' FROM households h LEFT JOIN persons p ON p.id = h.head_person_id WHERE h.id = $1",
                &[Arg::Int(id)],
            )
            .await?
        }
        _ => None,
    };
    Ok(row.map_or(format!("编号 {id}"), |r| r.text(0)))
}

fn cell_text(r: &Row, i: usize) -> String {
    r.opt_text(i).unwrap_or_else(|| "（空）".into())
}

/// Runs every check; findings in check order.
pub async fn run_all(tx: &mut Tx, checks: &[CheckDef], ledgers: &[LedgerDef], ctx: &Context) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for c in checks {
        out.extend(run(tx, c, ledgers, ctx).await?);
    }
    Ok(out)
}

/// Runs one check over the context's period (or as-of day) and place.
pub async fn run(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context) -> Result<Vec<Finding>> {
    let engine = tx.engine();
    let finding = |ledger: &str, message: String, record_ids: Vec<i64>, person_ids: Vec<i64>| Finding {
        check: c.key.clone(),
        check_name: c.name.clone(),
        message,
        ledger: ledger.to_string(),
        record_ids,
        person_ids,
    };
    let mut out = Vec::new();
    match c.kind {
        CheckKind::DuplicateInPeriod => {
            let def = ledger(c, c.ledger.as_ref(), ledgers)?;
            for f in &c.fields {
                if def.field(f).is_none() {
                    return Err(ReportError::Check(format!("检查「{}」：台账「{}」没有字段「{f}」", c.key, def.key)));
                }
            }
            let q = RecordQuery { period: Some(ctx.period.clone()), ..Default::default() };
            let (cond, args) = records::where_clause(def, &ctx.scope, &q)?;
            let cols: String = c.fields.iter().map(|f| format!(", a.{}", quote(f))).collect();
            let same: String = c
                .fields
                .iter()
                .map(|f| format!(" AND {}", null_eq(engine, &format!("b.{}", quote(f)), &format!("a.{}", quote(f)))))
                .collect();
            let sql = format!(
                "WITH t AS (SELECT * FROM {} WHERE {cond}) SELECT a.id, a.subject_id{cols} FROM t a \
                 WHERE a.subject_id IS NOT NULL AND EXISTS (SELECT 1 FROM t b WHERE b.id <> a.id AND b.subject_id = a.subject_id{same}) \
                 ORDER BY a.subject_id, a.id",
                def.table_name()
            );
            let rows = tx.fetch(&sql, &args).await?;
            let mut groups: Vec<(Option<i64>, Vec<String>, Vec<i64>)> = Vec::new();
            for r in &rows {
                let key: Vec<String> = (0..c.fields.len()).map(|i| cell_text(r, 2 + i)).collect();
                match groups.iter_mut().find(|g| g.0 == r.opt_int(1) && g.1 == key) {
                    Some(g) => g.2.push(r.int(0)),
                    None => groups.push((r.opt_int(1), key, vec![r.int(0)])),
                }
            }
            for (sid, key, ids) in groups {
                let who = subject_name(tx, def.subject, sid).await?;
                let what: Vec<String> = c
                    .fields
                    .iter()
                    .zip(&key)
                    .map(|(f, v)| format!("{}={v}", def.field(f).map_or(f.as_str(), |d| d.label.as_str())))
                    .collect();
                let msg = format!(
                    "「{}」中「{who}」在 {} 有 {} 条记录（编号 {}），疑似重复登记或重复发放",
                    def.name,
                    what.join("，"),
                    ids.len(),
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join("、")
                );
                out.push(finding(&def.key, msg, ids, vec![]));
            }
        }
        CheckKind::PaidAfterDeath => {
            let def = ledger(c, c.ledger.as_ref(), ledgers)?;
            let tf = time_field(def).to_string();
            let q = RecordQuery { period: Some(ctx.period.clone()), ..Default::default() };
            let (cond, args) = records::where_clause(def, &ctx.scope, &q)?;
            let join = match def.subject {
                SubjectKind::Person => "JOIN persons p ON p.id = t.subject_id",
                SubjectKind::Household => "JOIN households h ON h.id = t.subject_id JOIN persons p ON p.id = h.head_person_id",
                _ => return Err(ReportError::Check(format!("检查「{}」：台账「{}」的记录对象不是人员或户", c.key, def.key))),
            };
            let col = format!("t.{}", quote(&tf));
            let cmp = match (def.field(&tf).map(|f| f.kind), engine) {
                (Some(FieldKind::Month), Engine::Sqlite) => format!("{col} > SUBSTR(p.status_date, 1, 7)"),
                (Some(FieldKind::Month), Engine::Postgres) => format!("{col} > TO_CHAR(p.status_date, 'YYYY-MM')"),
                _ => format!("{col} > p.status_date"),
            };
            let sql = format!(
                "WITH t AS (SELECT * FROM {} WHERE {cond}) SELECT t.id, p.id, p.name, p.status_date, {col} FROM t {join} \
                 WHERE p.status = 'dead' AND p.status_date IS NOT NULL AND {cmp} ORDER BY p.id, t.id",
                def.table_name()
            );
            let who = if def.subject == SubjectKind::Household { "户主" } else { "" };
            for r in tx.fetch(&sql, &args).await? {
                let label = def.field(&tf).map_or(tf.as_str(), |f| f.label.as_str());
                let msg = format!(
                    "「{}」第 {} 号记录：{who}「{}」已于 {} 死亡，{label}却是 {}，死亡后仍有发放",
                    def.name,
                    r.int(0),
                    r.text(2),
                    r.opt_date(3).map(|d| d.to_string()).unwrap_or_default(),
                    cell_text(&r, 4)
                );
                out.push(finding(&def.key, msg, vec![r.int(0)], vec![r.int(1)]));
            }
        }
        CheckKind::DestituteWithDibao => {
            if let Some(s) = &c.setting {
                if settings::get(tx, s, ctx.report_year()).await? == Some(1) {
                    return Ok(out);
                }
            }
            let a = ledger(c, c.ledger.as_ref(), ledgers)?;
            let b = ledger(c, c.other_ledger.as_ref(), ledgers)?;
            if a.subject != SubjectKind::Person || b.subject != SubjectKind::Household {
                return Err(ReportError::Check(format!("检查「{}」：ledger 应以人员为对象，other_ledger 应以户为对象", c.key)));
            }
            let q = RecordQuery { period: Some(ctx.period.clone()), ..Default::default() };
            let (ca, mut args) = records::where_clause(a, &ctx.scope, &q)?;
            let (cb, args_b) = records::where_clause(b, &ctx.scope, &q)?;
            let cb = shift_params(&cb, args.len());
            args.extend(args_b);
            let (ta, tb) = (quote(time_field(a)), quote(time_field(b)));
            let sql = format!(
                "WITH a AS (SELECT * FROM {} WHERE {ca}), b AS (SELECT * FROM {} WHERE {cb}) \
                 SELECT a.id, b.id, p.id, p.name, a.{ta} FROM a JOIN persons p ON p.id = a.subject_id \
                 JOIN b ON b.subject_id = p.household_id AND b.{tb} = a.{ta} ORDER BY p.id, a.{ta}, a.id, b.id",
                a.table_name(),
                b.table_name()
            );
            let rows = tx.fetch(&sql, &args).await?;
            // (person id, name, months, ids in `ledger`, ids in `other_ledger`)
            type Group = (i64, String, Vec<String>, Vec<i64>, Vec<i64>);
            let mut by_person: Vec<Group> = Vec::new();
            for r in &rows {
                let i = match by_person.iter().position(|g| g.0 == r.int(2)) {
                    Some(i) => i,
                    None => {
                        by_person.push((r.int(2), r.text(3), vec![], vec![], vec![]));
                        by_person.len() - 1
                    }
                };
                let g = &mut by_person[i];
                let m = cell_text(r, 4);
                if !g.2.contains(&m) {
                    g.2.push(m);
                }
                if !g.3.contains(&r.int(0)) {
                    g.3.push(r.int(0));
                }
                if !g.4.contains(&r.int(1)) {
                    g.4.push(r.int(1));
                }
            }
            for (pid, name, months, ida, idb) in by_person {
                let msg = format!(
                    "「{name}」在 {} 同时领取「{}」（记录 {}）和所在户的「{}」（记录 {}）；如本地允许同时享受，请将参数 {} 设为 1",
                    months.join("、"),
                    a.name,
                    ida.iter().map(i64::to_string).collect::<Vec<_>>().join("、"),
                    b.name,
                    idb.iter().map(i64::to_string).collect::<Vec<_>>().join("、"),
                    c.setting.as_deref().unwrap_or("（无）")
                );
                out.push(finding(&a.key, msg, ida, vec![pid]));
            }
        }
        CheckKind::OverdueOpen => {
            let def = ledger(c, c.ledger.as_ref(), ledgers)?;
            let dl = c
                .deadline_field
                .as_deref()
                .filter(|d| def.field(d).is_some_and(|f| f.kind == FieldKind::Date))
                .ok_or_else(|| ReportError::Check(format!("检查「{}」：deadline_field 应为台账中的日期字段", c.key)))?;
            let (cond, mut args) = records::where_clause(def, &ctx.scope, &RecordQuery::default())?;
            let mut conds = vec![cond];
            args.push(Arg::Date(ctx.as_of));
            conds.push(format!("{} < ${}", quote(dl), args.len()));
            for (k, v) in &c.equals {
                if def.field(k).is_none() {
                    return Err(ReportError::Check(format!("检查「{}」：台账「{}」没有字段「{k}」", c.key, def.key)));
                }
                args.push(Arg::Text(v.clone()));
                conds.push(format!("{} = ${}", quote(k), args.len()));
            }
            if let Some(cond) = state_not_in(&c.closed_states, &mut args) {
                conds.push(cond);
            }
            let sql = format!(
                "SELECT id, {}, state FROM {} WHERE {} ORDER BY {}, id",
                quote(dl),
                def.table_name(),
                conds.join(" AND "),
                quote(dl)
            );
            let dl_label = def.field(dl).map_or(dl, |f| f.label.as_str());
            for r in tx.fetch(&sql, &args).await? {
                let deadline = r.opt_date(1);
                let state = r.text(2);
                let state_label = def
                    .workflow
                    .as_ref()
                    .and_then(|w| w.states.iter().find(|s| s.key == state))
                    .map_or(state.clone(), |s| s.label.clone());
                let late = deadline.map_or(0, |d| (ctx.as_of - d).num_days());
                let msg = format!(
                    "「{}」第 {} 号记录{}：{dl_label} {}，截至 {} 已超期 {late} 天，仍为「{state_label}」，未销号",
                    def.name,
                    r.int(0),
                    if c.equals.is_empty() { String::new() } else { format!("（{}）", c.equals.values().cloned().collect::<Vec<_>>().join("，")) },
                    deadline.map(|d| d.to_string()).unwrap_or_default(),
                    ctx.as_of
                );
                out.push(finding(&def.key, msg, vec![r.int(0)], vec![]));
            }
        }
        CheckKind::NoRecentVisit => {
            let def = ledger(c, c.ledger.as_ref(), ledgers)?;
            let visits = ledger(c, c.other_ledger.as_ref(), ledgers)?;
            let days = match &c.setting {
                Some(s) => settings::get(tx, s, ctx.report_year()).await?,
                None => None,
            }
            .or(c.default_days)
            .unwrap_or(90);
            let q = RecordQuery { as_of: Some(ctx.as_of), ..Default::default() };
            let (cond, mut args) = records::where_clause(def, &ctx.scope, &q)?;
            let mut conds = vec![cond];
            if let Some(cond) = state_not_in(&c.skip_states, &mut args) {
                conds.push(cond);
            }
            let vf = quote(time_field(visits));
            args.push(Arg::Date(ctx.as_of));
            let d = args.len();
            args.push(Arg::Date(ctx.as_of - Duration::days(days)));
            let from = args.len();
            let sql = format!(
                "WITH m AS (SELECT * FROM {} WHERE {}) SELECT m.id, m.subject_id, \
                 (SELECT MAX(v.{vf}) FROM {vt} v WHERE v.subject_id = m.subject_id AND v.{vf} <= ${d}) \
                 FROM m WHERE NOT EXISTS (SELECT 1 FROM {vt} v WHERE v.subject_id = m.subject_id AND v.{vf} > ${from} AND v.{vf} <= ${d}) \
                 ORDER BY m.id",
                def.table_name(),
                conds.join(" AND "),
                vt = visits.table_name()
            );
            for r in tx.fetch(&sql, &args).await? {
                let who = subject_name(tx, def.subject, r.opt_int(1)).await?;
                let last = r.opt_date(2).map_or("从未走访".to_string(), |d| format!("最近一次 {d}"));
                let msg = format!(
                    "「{}」第 {} 号记录「{who}」截至 {} 已超过 {days} 天没有「{}」记录（{last}）",
                    def.name,
                    r.int(0),
                    ctx.as_of,
                    visits.name
                );
                out.push(finding(&def.key, msg, vec![r.int(0)], vec![]));
            }
        }
        CheckKind::DuplicatePersons => {
            let scope = &ctx.scope;
            let sql = format!(
                "SELECT a.id, a.name, a.birth_date FROM persons a WHERE {} AND EXISTS (SELECT 1 FROM persons b \
                 WHERE b.id <> a.id AND b.name = a.name AND b.birth_date = a.birth_date AND b.id_number <> a.id_number) ORDER BY a.id",
                scope.condition("a.place_id", 1)
            );
            let rows = tx.fetch(&sql, &[scope.arg()]).await?;
            let mut groups: Vec<(String, String, Vec<i64>)> = Vec::new();
            for r in &rows {
                let (name, birth) = (r.text(1), r.opt_date(2).map(|d| d.to_string()).unwrap_or_default());
                match groups.iter_mut().find(|g| g.0 == name && g.1 == birth) {
                    Some(g) => g.2.push(r.int(0)),
                    None => groups.push((name, birth, vec![r.int(0)])),
                }
            }
            for (name, birth, ids) in groups {
                let msg = format!(
                    "「{name}」（出生日期 {birth}）登记了 {} 个不同的公民身份号码（人员编号 {}），可能是同一人重复登记，请核实",
                    ids.len(),
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join("、")
                );
                out.push(finding("", msg, vec![], ids));
            }
        }
    }
    Ok(out)
}

/// `(state IS NULL OR state NOT IN ($i, …))` with the states bound, or none for no states.
fn state_not_in(states: &[String], args: &mut Vec<Arg>) -> Option<String> {
    if states.is_empty() {
        return None;
    }
    let ps: Vec<String> = states
        .iter()
        .map(|s| {
            args.push(Arg::Text(s.clone()));
            format!("${}", args.len())
        })
        .collect();
    Some(format!("(state IS NULL OR state NOT IN ({}))", ps.join(", ")))
}
