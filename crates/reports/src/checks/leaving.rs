//! Records that outlive their recipient: payments dated after a death or a move-out
//! (`paid_after_leaving`), and enrolments still open after it (`enrolled_after_leaving`).
//!
//! Who left is read from the registry (`persons.status`, `status_date`) as of the context's
//! day: a death recorded with a later date is not known yet on that day. A household's record
//! answers for its head, for any member or for all of its members (`household`).

use chrono::NaiveDate;
use taizhang_domain::ledger::{LedgerDef, SubjectKind, TimeModel};
use taizhang_domain::registry::PersonStatus;
use taizhang_storage::ledgers::quote;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{Arg, Engine, Tx};

use super::{
    after_date, equals_conds, equals_text, label, ledger, leaving_statuses, month_of, state_not_in, time_field, CheckDef,
    Found, HouseholdRule, Names,
};
use crate::error::{ReportError, Result};
use crate::eval::Context;

/// Whose leaving counts for the records of `def`.
fn rule(c: &CheckDef, def: &LedgerDef) -> Result<Option<HouseholdRule>> {
    match def.subject {
        SubjectKind::Person => Ok(None),
        SubjectKind::Household => Ok(Some(c.household)),
        _ => Err(ReportError::Check(format!("检查「{}」：台账「{}」的记录对象不是人员或户", c.key, def.key))),
    }
}

/// A person who left, as a subquery: the subject's id `sid` (the person, or their household),
/// and the person's `pid`, `pname`, `pstatus`, `pdate`. `statuses` and `as_of` are bound here.
fn leavers_sql(household: Option<HouseholdRule>, statuses: &[PersonStatus], as_of: NaiveDate, args: &mut Vec<Arg>) -> String {
    let ps: Vec<String> = statuses
        .iter()
        .map(|s| {
            args.push(Arg::Text(s.key().to_string()));
            format!("${}", args.len())
        })
        .collect();
    args.push(Arg::Date(as_of));
    let d = args.len();
    // A leaving without a date cannot be placed in time, and one dated after the as-of day is
    // not known on it.
    let left = |p: &str| format!("{p}.status IN ({}) AND {p}.status_date IS NOT NULL AND {p}.status_date <= ${d}", ps.join(", "));
    let cols = "p.id AS pid, p.name AS pname, p.status AS pstatus, p.status_date AS pdate";
    match household {
        None => format!("SELECT p.id AS sid, {cols} FROM persons p WHERE {}", left("p")),
        Some(HouseholdRule::Head) => {
            format!("SELECT h.id AS sid, {cols} FROM households h JOIN persons p ON p.id = h.head_person_id WHERE {}", left("p"))
        }
        Some(HouseholdRule::AnyMember) => {
            format!("SELECT p.household_id AS sid, {cols} FROM persons p WHERE p.household_id IS NOT NULL AND {}", left("p"))
        }
        // The member who left last stands for the household, and only when no member is left:
        // no other member who has not left, or who left later (ties: the higher id).
        Some(HouseholdRule::AllMembers) => format!(
            "SELECT p.household_id AS sid, {cols} FROM persons p WHERE p.household_id IS NOT NULL AND {} \
             AND NOT EXISTS (SELECT 1 FROM persons m WHERE m.household_id = p.household_id AND m.id <> p.id \
             AND (NOT ({}) OR m.status_date > p.status_date OR (m.status_date = p.status_date AND m.id > p.id)))",
            left("p"),
            left("m")
        ),
    }
}

/// One person who left.
struct Leaver {
    id: i64,
    name: String,
    status: String,
    date: Option<NaiveDate>,
}

impl Leaver {
    fn what(&self) -> String {
        let status = PersonStatus::parse(&self.status).map_or_else(|| self.status.clone(), |s| s.label().to_string());
        format!("已于 {} {status}", self.date.map(|d| d.to_string()).unwrap_or_default())
    }
}

/// 「张三」已于 2024-05-10 死亡 — who left, as the message about `subject` says it.
fn who_left(household: Option<HouseholdRule>, leavers: &[Leaver]) -> String {
    let named = || leavers.iter().map(|l| format!("「{}」{}", l.name, l.what())).collect::<Vec<_>>().join("、");
    match household {
        None => leavers.first().map(Leaver::what).unwrap_or_default(),
        Some(HouseholdRule::Head) => format!("户主{}", named()),
        Some(HouseholdRule::AnyMember) => format!("成员{}", named()),
        Some(HouseholdRule::AllMembers) => format!("全户成员均已死亡或迁出，最后一人{}", named()),
    }
}

/// `坪溪村「张三」已于 …` for a person, `坪溪村「张三户（H1）」：户主「张三」已于 …` for a household.
fn opening(at: &str, subject: &str, household: Option<HouseholdRule>, leavers: &[Leaver]) -> String {
    let who = who_left(household, leavers);
    if household.is_some() {
        format!("{at}「{subject}」：{who}")
    } else {
        format!("{at}「{subject}」{who}")
    }
}

fn leaver(r: &taizhang_storage::Row, i: usize) -> Leaver {
    Leaver { id: r.int(i), name: r.text(i + 1), status: r.text(i + 2), date: r.opt_date(i + 3) }
}

fn person_ids(leavers: &[Leaver]) -> Vec<i64> {
    let mut ids: Vec<i64> = leavers.iter().map(|l| l.id).collect();
    ids.dedup();
    ids
}

/// Event records dated after their recipient left, one finding per subject and leaving.
pub(super) async fn paid_after(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let engine = tx.engine();
    let def = ledger(c, c.ledger.as_ref(), ledgers)?;
    if !matches!(def.time, TimeModel::Event { .. }) {
        return Err(ReportError::Check(format!("检查「{}」：台账「{}」应是按事件记的台账", c.key, def.key)));
    }
    let household = rule(c, def)?;
    let statuses = leaving_statuses(c)?;
    let Some(period) = ctx.period_to_as_of() else { return Ok(vec![]) };
    let tf = time_field(def).to_string();
    let q = RecordQuery { period: Some(period), ..Default::default() };
    let (cond, mut args) = records::where_clause(def, &ctx.scope, &q)?;
    let mut conds = vec![cond];
    conds.extend(equals_conds(c, def, "", &mut args)?);
    let leavers = leavers_sql(household, &statuses, ctx.as_of, &mut args);
    let col = format!("t.{}", quote(&tf));
    let sql = format!(
        "WITH t AS (SELECT * FROM {} WHERE {}), l AS ({leavers}) \
         SELECT t.id, t.place_id, t.subject_id, {col}, l.pid, l.pname, l.pstatus, l.pdate FROM t JOIN l ON l.sid = t.subject_id \
         WHERE {} ORDER BY t.subject_id, l.pdate, l.pid, {col}, t.id",
        def.table_name(),
        conds.join(" AND "),
        after_date(engine, def, &tf, &col, "l.pdate")
    );
    let rows = tx.fetch(&sql, &args).await?;
    // (subject, place of the first record, who left, [(record id, its date)])
    type Group = (i64, Option<i64>, Vec<Leaver>, Vec<(i64, String)>);
    let mut groups: Vec<Group> = Vec::new();
    for r in &rows {
        let (sid, id) = (r.int(2), r.int(0));
        let l = leaver(r, 4);
        let i = match groups.iter().position(|g| g.0 == sid) {
            Some(i) => i,
            None => {
                groups.push((sid, r.opt_int(1), vec![], vec![]));
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        if !g.2.iter().any(|x| x.id == l.id) {
            g.2.push(l);
        }
        if !g.3.iter().any(|x| x.0 == id) {
            g.3.push((id, super::cell_text(r, 3)));
        }
    }
    let tl = label(def, &tf);
    let mut out = Vec::new();
    for (sid, place, leavers, recs) in groups {
        let subject = names.subject(tx, def.subject, Some(sid)).await?;
        let (village, at) = names.where_text(tx, place).await?;
        let listed: Vec<String> = recs.iter().map(|(id, when)| format!("第 {id} 号（{tl} {when}）")).collect();
        let message = format!(
            "{}，此后「{}」{}仍有 {} 条记录：{}",
            opening(&at, &subject, household, &leavers),
            def.name,
            equals_text(c, def),
            recs.len(),
            listed.join("、")
        );
        out.push(Found {
            message,
            person_ids: person_ids(&leavers),
            subject,
            place_id: place,
            village,
            ..Found::records(&def.key, recs.iter().map(|r| r.0).collect())
        });
    }
    Ok(out)
}

/// Standing records in force after their subject left: no end, or an end after the month of
/// the leaving (a benefit stops from the next month), or a start after it.
pub(super) async fn enrolled_after(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let engine = tx.engine();
    let def = ledger(c, c.ledger.as_ref(), ledgers)?;
    let TimeModel::Standing { start, end } = &def.time else {
        return Err(ReportError::Check(format!("检查「{}」：台账「{}」应是在册类台账（有起止日期）", c.key, def.key)));
    };
    let household = rule(c, def)?;
    let statuses = leaving_statuses(c)?;
    // In force on some day of the period up to the as-of day.
    let Some(period) = ctx.period_to_as_of() else { return Ok(vec![]) };
    let q = RecordQuery { period: Some(period), ..Default::default() };
    let (cond, mut args) = records::where_clause(def, &ctx.scope, &q)?;
    let mut conds = vec![cond];
    conds.extend(equals_conds(c, def, "", &mut args)?);
    if let Some(s) = state_not_in(&c.skip_states, &mut args) {
        conds.push(s);
    }
    let leavers = leavers_sql(household, &statuses, ctx.as_of, &mut args);
    let (s, e) = (format!("t.{}", quote(start)), format!("t.{}", quote(end)));
    let open = open_after(engine, &e, "l.pdate");
    let sql = format!(
        "WITH t AS (SELECT * FROM {} WHERE {}), l AS ({leavers}) \
         SELECT t.id, t.place_id, t.subject_id, {s}, {e}, l.pid, l.pname, l.pstatus, l.pdate FROM t JOIN l ON l.sid = t.subject_id \
         WHERE ({open} OR {s} > l.pdate) ORDER BY t.subject_id, t.id, l.pdate, l.pid",
        def.table_name(),
        conds.join(" AND ")
    );
    let rows = tx.fetch(&sql, &args).await?;
    // (record id, place, subject, start, end, who left)
    type Group = (i64, Option<i64>, i64, Option<NaiveDate>, Option<NaiveDate>, Vec<Leaver>);
    let mut groups: Vec<Group> = Vec::new();
    for r in &rows {
        let l = leaver(r, 5);
        match groups.iter_mut().find(|g| g.0 == r.int(0)) {
            Some(g) => g.5.push(l),
            None => groups.push((r.int(0), r.opt_int(1), r.int(2), r.opt_date(3), r.opt_date(4), vec![l])),
        }
    }
    let (sl, el) = (label(def, start), label(def, end));
    let mut out = Vec::new();
    for (id, place, sid, from, to, leavers) in groups {
        let subject = names.subject(tx, def.subject, Some(sid)).await?;
        let (village, at) = names.where_text(tx, place).await?;
        let first_left = leavers.iter().filter_map(|l| l.date).min();
        let from_text = from.map(|d| d.to_string()).unwrap_or_default();
        let state = match (to, from.zip(first_left)) {
            (_, Some((f, left))) if f > left => format!("{sl} {from_text} 却在此之后"),
            (None, _) => format!("{sl} {from_text}，至今未终止，仍在册"),
            (Some(t), _) => format!("{sl} {from_text}，{el} {t} 晚于当月月底"),
        };
        let message = format!("{}，「{}」第 {id} 号记录{}：{state}", opening(&at, &subject, household, &leavers), def.name, equals_text(c, def));
        out.push(Found {
            message,
            person_ids: person_ids(&leavers),
            subject,
            place_id: place,
            village,
            ..Found::records(&def.key, vec![id])
        });
    }
    Ok(out)
}

/// An end that leaves the record open after `date`: none, or one in a later month. The
/// ledger's end column and the person's status date are both dates.
fn open_after(engine: Engine, end: &str, date: &str) -> String {
    format!("({end} IS NULL OR {} > {})", month_of(engine, end), month_of(engine, date))
}
