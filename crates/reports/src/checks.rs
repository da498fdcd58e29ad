//! Data checks (数据检查): data in `catalogue/checks/*.toml`, each a named SQL-backed kind with
//! parameters, reporting the offending records with a Chinese message.
//!
//! Kinds: `duplicate_in_period`, `paid_after_leaving` and `enrolled_after_leaving` (a death or
//! a move-out, `leaving.rs`), `overlap_with_household` (`overlap.rs`), `overdue_open`,
//! `no_recent_visit`, `duplicate_persons`, and across the towns of a county (`cross_town.rs`).
//!
//! Every finding names who it is about (`subject`), the village its place lies in, and every
//! record its message names (`record_ids` in `ledger`, `other_record_ids` in `other_ledger`).
//! A check looks at nothing dated after the context's as-of day.

mod cross_town;
mod leaving;
mod overlap;

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use taizhang_domain::ledger::{FieldKind, LedgerDef, SubjectKind, TimeModel};
use taizhang_domain::registry::PersonStatus;
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
    /// Records of an event ledger dated after the subject left (`statuses`: died, moved out);
    /// for household ledgers `household` says whose leaving counts.
    PaidAfterLeaving,
    /// Records of a standing ledger still open after the subject left: no end, or an end
    /// after the month of the death or move (benefits stop from the next month).
    EnrolledAfterLeaving,
    /// A person in `ledger` while their household is in `other_ledger` at the same time: the
    /// same month (event ledgers) or overlapping spans (standing ledgers); off when the
    /// setting named by `setting` is 1 for the year.
    OverlapWithHousehold,
    /// Records past `deadline_field` (before the as-of day) and not in `closed_states`.
    OverdueOpen,
    /// Standing records (as of the day) whose subject has no record in `other_ledger` within
    /// N days (setting `setting`, default `default_days`).
    NoRecentVisit,
    /// Persons with the same name and birth date but different ID numbers.
    DuplicatePersons,
    /// Across the towns of a county (`cross_town.rs`): the same subject paid by two towns in
    /// one month; registered in one town, its household or enrolment in another; paid by one
    /// town after a death registered in another; a visitor in two towns on one day.
    PaidInTwoTowns,
    RegisteredInOtherTown,
    PaidAfterDeathInOtherTown,
    VisitorInTwoTowns,
}

impl CheckKind {
    /// A check across towns (`cross_town.rs`): it has nothing to find in a single town's
    /// database, so a single-town dataset cannot plant a case for it.
    pub fn across_towns(&self) -> bool {
        matches!(self, Self::PaidInTwoTowns | Self::RegisteredInOtherTown | Self::PaidAfterDeathInOtherTown | Self::VisitorInTwoTowns)
    }
}

/// Whose leaving a household's record answers for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HouseholdRule {
    /// The head of household (户主) left and is still the head.
    #[default]
    Head,
    /// A member left and is still counted in the household.
    AnyMember,
    /// Every member left: nobody is left to receive it.
    AllMembers,
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
    /// Person statuses that count as leaving (`dead`, `moved_out`; default both).
    #[serde(default)]
    pub statuses: Vec<String>,
    /// Household ledgers: whose leaving counts.
    #[serde(default)]
    pub household: HouseholdRule,
    /// What to do, appended to every message (never a setting's key: users see labels).
    #[serde(default)]
    pub advice: String,
    /// What the check means, shown beside its name.
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
    /// A second ledger whose records the message names too (the household's 低保 beside a
    /// person's 特困), empty when none.
    pub other_ledger: String,
    pub other_record_ids: Vec<i64>,
    pub person_ids: Vec<i64>,
    /// The person or household the finding is about, as the message names it.
    pub subject: String,
    /// The place of the (first) record or person.
    pub place_id: Option<i64>,
    /// The village (村) that place lies in; empty for a place above village level.
    pub village: String,
    /// Every record the message names, whichever ledger it is in: `record_ids` in `ledger`,
    /// then `other_record_ids` in `other_ledger`. One list for a reader of `check --json`, who
    /// otherwise finds the second ledger's record (the household's 低保 beside a person's 特困)
    /// named in the message but missing from `record_ids`.
    pub records: Vec<FindingRecord>,
}

/// A record a finding names: its ledger and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRecord {
    pub ledger: String,
    pub id: i64,
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

fn label<'a>(def: &'a LedgerDef, key: &'a str) -> &'a str {
    def.field(key).map_or(key, |f| f.label.as_str())
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

/// `YYYY-MM` of a date column, the way month fields are stored (SQLite keeps dates as text).
fn month_of(engine: Engine, col: &str) -> String {
    match engine {
        Engine::Sqlite => format!("SUBSTR({col}, 1, 7)"),
        Engine::Postgres => format!("TO_CHAR({col}, 'YYYY-MM')"),
    }
}

/// The year of a date column as an integer, the way year fields are stored.
fn year_of(engine: Engine, col: &str) -> String {
    match engine {
        Engine::Sqlite => format!("CAST(SUBSTR({col}, 1, 4) AS INTEGER)"),
        Engine::Postgres => format!("CAST(EXTRACT(YEAR FROM {col}) AS BIGINT)"),
    }
}

/// `{col} > {date}` where `col` is `def`'s date, month or year field `field` and `date` a date
/// column: a month field is after a date from the next month on, a year field from the next
/// year on (a payment for the month of a death is due).
fn after_date(engine: Engine, def: &LedgerDef, field: &str, col: &str, date: &str) -> String {
    match def.field(field).map(|f| f.kind) {
        Some(FieldKind::Month) => format!("{col} > {}", month_of(engine, date)),
        Some(FieldKind::Year) => format!("{col} > {}", year_of(engine, date)),
        _ => format!("{col} > {date}"),
    }
}

/// The `equals` conditions of a check on `def`, values bound by the field's type.
fn equals_conds(c: &CheckDef, def: &LedgerDef, alias: &str, args: &mut Vec<Arg>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for (k, v) in &c.equals {
        let f = def
            .field(k)
            .ok_or_else(|| ReportError::Check(format!("检查「{}」：台账「{}」没有字段「{k}」", c.key, def.key)))?;
        let bad = || ReportError::Check(format!("检查「{}」：字段「{}」的值「{v}」类型不符", c.key, f.label));
        let arg = match f.kind {
            FieldKind::Integer | FieldKind::Decimal | FieldKind::Money | FieldKind::Reference | FieldKind::Year => {
                Arg::Int(v.trim().parse().map_err(|_| bad())?)
            }
            FieldKind::Boolean => Arg::Bool(v.trim().parse().map_err(|_| bad())?),
            FieldKind::Date => Arg::Date(NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| bad())?),
            _ => Arg::Text(v.clone()),
        };
        args.push(arg);
        out.push(format!("{alias}{} = ${}", quote(k), args.len()));
    }
    Ok(out)
}

/// `（发放类别=补发）` for a check with `equals`, else nothing.
fn equals_text(c: &CheckDef, def: &LedgerDef) -> String {
    if c.equals.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = c.equals.iter().map(|(k, v)| format!("{}={v}", label(def, k))).collect();
    format!("（{}）", parts.join("，"))
}

/// The person statuses a check counts as leaving (default: died, moved out).
fn leaving_statuses(c: &CheckDef) -> Result<Vec<PersonStatus>> {
    if c.statuses.is_empty() {
        return Ok(vec![PersonStatus::Dead, PersonStatus::MovedOut]);
    }
    c.statuses
        .iter()
        .map(|s| match PersonStatus::parse(s) {
            Some(PersonStatus::Alive) | None => {
                Err(ReportError::Check(format!("检查「{}」：人员状态「{s}」不是离开（死亡、迁出、失联）", c.key)))
            }
            Some(p) => Ok(p),
        })
        .collect()
}

fn ids_text(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join("、")
}

fn cell_text(r: &Row, i: usize) -> String {
    r.opt_text(i).unwrap_or_else(|| "（空）".into())
}

/// Names of subjects and villages, looked up once per run.
#[derive(Default)]
struct Names {
    /// place id → (village name or empty, the place's own name)
    places: HashMap<i64, (String, String)>,
    subjects: HashMap<(bool, i64), String>,
}

impl Names {
    /// The village (村) a place lies in — itself or its village-level ancestor — and the
    /// place's own name (what a message says where there is no village: a town-level record).
    async fn place(&mut self, tx: &mut Tx, place_id: i64) -> Result<(String, String)> {
        if let Some(v) = self.places.get(&place_id) {
            return Ok(v.clone());
        }
        let row = tx
            .fetch_opt(
                "SELECT p.name, (SELECT v.name FROM places v WHERE v.level = 'village' AND p.path LIKE v.path || '%' \
                 ORDER BY LENGTH(v.path) DESC LIMIT 1) FROM places p WHERE p.id = $1",
                &[Arg::Int(place_id)],
            )
            .await?;
        let v = row.map_or((String::new(), String::new()), |r| (r.opt_text(1).unwrap_or_default(), r.text(0)));
        self.places.insert(place_id, v.clone());
        Ok(v)
    }

    /// The village's name, or the place's where it lies above any village.
    async fn where_text(&mut self, tx: &mut Tx, place_id: Option<i64>) -> Result<(String, String)> {
        let Some(id) = place_id else { return Ok((String::new(), String::new())) };
        let (village, own) = self.place(tx, id).await?;
        let text = if village.is_empty() { own } else { village.clone() };
        Ok((village, text))
    }

    /// 「张三」 for a person, 「张三户（H1）」 for a household.
    async fn subject(&mut self, tx: &mut Tx, kind: SubjectKind, id: Option<i64>) -> Result<String> {
        let Some(id) = id else { return Ok("（无对象）".into()) };
        let household = kind == SubjectKind::Household;
        if let Some(s) = self.subjects.get(&(household, id)) {
            return Ok(s.clone());
        }
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
        let s = row.map_or(format!("编号 {id}"), |r| r.text(0));
        self.subjects.insert((household, id), s.clone());
        Ok(s)
    }
}

/// What one finding is made of before the check's name is put on it.
struct Found {
    message: String,
    ledger: String,
    record_ids: Vec<i64>,
    other_ledger: String,
    other_record_ids: Vec<i64>,
    person_ids: Vec<i64>,
    subject: String,
    place_id: Option<i64>,
    village: String,
}

impl Found {
    fn records(ledger: &str, record_ids: Vec<i64>) -> Found {
        Found {
            message: String::new(),
            ledger: ledger.to_string(),
            record_ids,
            other_ledger: String::new(),
            other_record_ids: vec![],
            person_ids: vec![],
            subject: String::new(),
            place_id: None,
            village: String::new(),
        }
    }
}

/// Runs every check; findings in check order.
pub async fn run_all(tx: &mut Tx, checks: &[CheckDef], ledgers: &[LedgerDef], ctx: &Context) -> Result<Vec<Finding>> {
    let mut names = Names::default();
    let mut out = Vec::new();
    for c in checks {
        out.extend(run_named(tx, c, ledgers, ctx, &mut names).await?);
    }
    Ok(out)
}

/// Runs one check over the context's period (up to its as-of day) and place.
pub async fn run(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context) -> Result<Vec<Finding>> {
    run_named(tx, c, ledgers, ctx, &mut Names::default()).await
}

async fn run_named(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Finding>> {
    let found = match c.kind {
        CheckKind::DuplicateInPeriod => duplicate_in_period(tx, c, ledgers, ctx, names).await?,
        CheckKind::PaidAfterLeaving => leaving::paid_after(tx, c, ledgers, ctx, names).await?,
        CheckKind::EnrolledAfterLeaving => leaving::enrolled_after(tx, c, ledgers, ctx, names).await?,
        CheckKind::OverlapWithHousehold => overlap::with_household(tx, c, ledgers, ctx, names).await?,
        CheckKind::OverdueOpen => overdue_open(tx, c, ledgers, ctx, names).await?,
        CheckKind::NoRecentVisit => no_recent_visit(tx, c, ledgers, ctx, names).await?,
        CheckKind::DuplicatePersons => duplicate_persons(tx, ctx, names).await?,
        CheckKind::PaidInTwoTowns => cross_town::paid_in_two_towns(tx, c, ledgers, ctx, names).await?,
        CheckKind::RegisteredInOtherTown => cross_town::registered_in_other_town(tx, c, ledgers, ctx, names).await?,
        CheckKind::PaidAfterDeathInOtherTown => cross_town::paid_after_death_in_other_town(tx, c, ledgers, ctx, names).await?,
        CheckKind::VisitorInTwoTowns => cross_town::visitor_in_two_towns(tx, c, ledgers, ctx, names).await?,
    };
    Ok(found
        .into_iter()
        .map(|f| Finding {
            records: [(&f.ledger, &f.record_ids), (&f.other_ledger, &f.other_record_ids)]
                .into_iter()
                .flat_map(|(ledger, ids)| ids.iter().map(|&id| FindingRecord { ledger: ledger.clone(), id }))
                .collect(),
            check: c.key.clone(),
            check_name: c.name.clone(),
            message: if c.advice.is_empty() { f.message } else { format!("{}；{}", f.message, c.advice) },
            ledger: f.ledger,
            record_ids: f.record_ids,
            other_ledger: f.other_ledger,
            other_record_ids: f.other_record_ids,
            person_ids: f.person_ids,
            subject: f.subject,
            place_id: f.place_id,
            village: f.village,
        })
        .collect())
}

async fn duplicate_in_period(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let engine = tx.engine();
    let def = ledger(c, c.ledger.as_ref(), ledgers)?;
    for f in &c.fields {
        if def.field(f).is_none() {
            return Err(ReportError::Check(format!("检查「{}」：台账「{}」没有字段「{f}」", c.key, def.key)));
        }
    }
    let Some(period) = ctx.period_to_as_of() else { return Ok(vec![]) };
    let q = RecordQuery { period: Some(period), ..Default::default() };
    let (cond, args) = records::where_clause(def, &ctx.scope, &q)?;
    let cols: String = c.fields.iter().map(|f| format!(", a.{}", quote(f))).collect();
    let same: String = c
        .fields
        .iter()
        .map(|f| format!(" AND {}", null_eq(engine, &format!("b.{}", quote(f)), &format!("a.{}", quote(f)))))
        .collect();
    let sql = format!(
        "WITH t AS (SELECT * FROM {} WHERE {cond}) SELECT a.id, a.subject_id, a.place_id{cols} FROM t a \
         WHERE a.subject_id IS NOT NULL AND EXISTS (SELECT 1 FROM t b WHERE b.id <> a.id AND b.subject_id = a.subject_id{same}) \
         ORDER BY a.subject_id, a.id",
        def.table_name()
    );
    let rows = tx.fetch(&sql, &args).await?;
    // (subject, values of `fields`, place of the first record, record ids)
    type Group = (Option<i64>, Vec<String>, Option<i64>, Vec<i64>);
    let mut groups: Vec<Group> = Vec::new();
    for r in &rows {
        let key: Vec<String> = (0..c.fields.len()).map(|i| cell_text(r, 3 + i)).collect();
        match groups.iter_mut().find(|g| g.0 == r.opt_int(1) && g.1 == key) {
            Some(g) => g.3.push(r.int(0)),
            None => groups.push((r.opt_int(1), key, r.opt_int(2), vec![r.int(0)])),
        }
    }
    let mut out = Vec::new();
    for (sid, key, place, ids) in groups {
        let who = names.subject(tx, def.subject, sid).await?;
        let (village, at) = names.where_text(tx, place).await?;
        let what: Vec<String> = c.fields.iter().zip(&key).map(|(f, v)| format!("{}={v}", label(def, f))).collect();
        let message = format!(
            "{at}「{who}」：「{}」中{}的记录有 {} 条（第 {} 号），疑似重复登记或重复发放",
            def.name,
            what.join("、"),
            ids.len(),
            ids_text(&ids)
        );
        let person_ids = if def.subject == SubjectKind::Person { sid.into_iter().collect() } else { vec![] };
        out.push(Found { message, person_ids, subject: who, place_id: place, village, ..Found::records(&def.key, ids) });
    }
    Ok(out)
}

async fn overdue_open(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
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
    conds.extend(equals_conds(c, def, "", &mut args)?);
    if let Some(cond) = state_not_in(&c.closed_states, &mut args) {
        conds.push(cond);
    }
    let sql = format!(
        "SELECT id, {}, state, place_id, subject_id FROM {} WHERE {} ORDER BY {}, id",
        quote(dl),
        def.table_name(),
        conds.join(" AND "),
        quote(dl)
    );
    let dl_label = label(def, dl);
    let mut out = Vec::new();
    for r in tx.fetch(&sql, &args).await? {
        let deadline = r.opt_date(1);
        let state = r.text(2);
        let state_label = def
            .workflow
            .as_ref()
            .and_then(|w| w.states.iter().find(|s| s.key == state))
            .map_or(state.clone(), |s| s.label.clone());
        let late = deadline.map_or(0, |d| (ctx.as_of - d).num_days());
        let (village, at) = names.where_text(tx, r.opt_int(3)).await?;
        let subject = match (def.subject, r.opt_int(4)) {
            (SubjectKind::Person | SubjectKind::Household, Some(id)) => names.subject(tx, def.subject, Some(id)).await?,
            _ => String::new(),
        };
        let message = format!(
            "{at}「{}」第 {} 号记录{}：{dl_label} {}，截至 {} 已超期 {late} 天，仍为「{state_label}」，未销号",
            def.name,
            r.int(0),
            equals_text(c, def),
            deadline.map(|d| d.to_string()).unwrap_or_default(),
            ctx.as_of
        );
        out.push(Found { message, subject, place_id: r.opt_int(3), village, ..Found::records(&def.key, vec![r.int(0)]) });
    }
    Ok(out)
}

async fn no_recent_visit(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
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
    // The visits go through storage's where-clause too, so that a voided visit does not count.
    let (vcond, vargs) = records::where_clause(visits, &taizhang_storage::Scope::all(), &RecordQuery::default())?;
    let vcond = shift_params(&vcond, args.len());
    args.extend(vargs);
    let sql = format!(
        "WITH m AS (SELECT * FROM {} WHERE {}), v AS (SELECT * FROM {} WHERE {vcond}) SELECT m.id, m.subject_id, m.place_id, \
         (SELECT MAX(v.{vf}) FROM v WHERE v.subject_id = m.subject_id AND v.{vf} <= ${d}) \
         FROM m WHERE NOT EXISTS (SELECT 1 FROM v WHERE v.subject_id = m.subject_id AND v.{vf} > ${from} AND v.{vf} <= ${d}) \
         ORDER BY m.id",
        def.table_name(),
        conds.join(" AND "),
        visits.table_name()
    );
    let mut out = Vec::new();
    for r in tx.fetch(&sql, &args).await? {
        let who = names.subject(tx, def.subject, r.opt_int(1)).await?;
        let (village, at) = names.where_text(tx, r.opt_int(2)).await?;
        let last = r.opt_date(3).map_or("从未走访".to_string(), |d| format!("最近一次 {d}"));
        let message = format!(
            "{at}「{who}」：「{}」第 {} 号记录截至 {} 已超过 {days} 天没有「{}」记录（{last}）",
            def.name,
            r.int(0),
            ctx.as_of,
            visits.name
        );
        out.push(Found { message, subject: who, place_id: r.opt_int(2), village, ..Found::records(&def.key, vec![r.int(0)]) });
    }
    Ok(out)
}

async fn duplicate_persons(tx: &mut Tx, ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let scope = &ctx.scope;
    // The (name, birth date) pairs held by two ID numbers or more, in one grouping pass over the
    // index on all three (migration 9), then their persons within scope: a person of such a pair
    // always has a namesake with another number (ID numbers are unique and never empty). The
    // pairs are sought in the whole database, as a registration outside the scope counts too.
    let sql = format!(
        "SELECT a.id, a.name, a.birth_date, a.place_id FROM persons a JOIN (SELECT name, birth_date FROM persons \
         GROUP BY name, birth_date HAVING MIN(id_number) <> MAX(id_number)) d ON d.name = a.name AND d.birth_date = a.birth_date \
         WHERE {} ORDER BY a.id",
        scope.condition("a.place_id", 1)
    );
    let rows = tx.fetch(&sql, &[scope.arg()]).await?;
    // (name, birth date, person ids, their places)
    let mut groups: Vec<(String, String, Vec<i64>, Vec<i64>)> = Vec::new();
    for r in &rows {
        let (name, birth) = (r.text(1), r.opt_date(2).map(|d| d.to_string()).unwrap_or_default());
        match groups.iter_mut().find(|g| g.0 == name && g.1 == birth) {
            Some(g) => {
                g.2.push(r.int(0));
                g.3.push(r.int(3));
            }
            None => groups.push((name, birth, vec![r.int(0)], vec![r.int(3)])),
        }
    }
    let mut out = Vec::new();
    for (name, _birth, ids, places) in groups {
        // The villages of every registration, in order, each once.
        let (mut villages, mut ats) = (Vec::<String>::new(), Vec::<String>::new());
        for p in &places {
            let (v, at) = names.where_text(tx, Some(*p)).await?;
            if !v.is_empty() && !villages.contains(&v) {
                villages.push(v);
            }
            if !ats.contains(&at) {
                ats.push(at);
            }
        }
        // The birth date is not written out: it is read from the ID number, which readers who
        // see numbers masked may not see (docs/personal-data.md); the persons' pages show it to
        // those who may. The other registrations are only those within the scope: one outside
        // it (another village, another town) is said to exist, never named.
        let message = if ids.len() == 1 {
            format!(
                "{}「{name}」（人员编号 {}）与本范围以外的另一登记姓名和出生日期相同、公民身份号码不同，可能是同一人重复登记，请核实（另一登记的详情由上级用户查看）",
                ats.join("、"),
                ids_text(&ids)
            )
        } else {
            format!(
                "{}「{name}」登记了 {} 个不同的公民身份号码（人员编号 {}），姓名和出生日期相同，可能是同一人重复登记，请核实",
                ats.join("、"),
                ids.len(),
                ids_text(&ids)
            )
        };
        out.push(Found {
            message,
            person_ids: ids,
            subject: name,
            place_id: places.first().copied(),
            village: villages.join("、"),
            ..Found::records("", vec![])
        });
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
