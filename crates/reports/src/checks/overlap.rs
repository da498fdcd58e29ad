//! A person in one ledger while their household is in another at the same time
//! (`overlap_with_household`): 特困 for a person whose household has 低保, where the local rule
//! does not allow both. Payment ledgers meet in the same month; standing ledgers where the
//! two enrolments overlap within the period, up to the as-of day.

use chrono::NaiveDate;
use taizhang_domain::ledger::{LedgerDef, SubjectKind, TimeModel};
use taizhang_storage::ledgers::quote;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{settings, Tx};

use super::{cell_text, ids_text, ledger, shift_params, CheckDef, Found, Names};
use crate::error::{ReportError, Result};
use crate::eval::Context;

/// What one person's rows add up to.
struct Group {
    person: i64,
    name: String,
    household: i64,
    place: Option<i64>,
    /// Months (payments) or spans (enrolments), each once, in order.
    when: Vec<String>,
    ids_a: Vec<i64>,
    ids_b: Vec<i64>,
}

fn push_once<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

pub(super) async fn with_household(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    if let Some(s) = &c.setting {
        if settings::get(tx, s, ctx.report_year()).await? == Some(1) {
            return Ok(vec![]);
        }
    }
    let a = ledger(c, c.ledger.as_ref(), ledgers)?;
    let b = ledger(c, c.other_ledger.as_ref(), ledgers)?;
    if a.subject != SubjectKind::Person || b.subject != SubjectKind::Household {
        return Err(ReportError::Check(format!("检查「{}」：ledger 应以人员为对象，other_ledger 应以户为对象", c.key)));
    }
    let Some(period) = ctx.period_to_as_of() else { return Ok(vec![]) };
    let q = RecordQuery { period: Some(period.clone()), ..Default::default() };
    let (ca, mut args) = records::where_clause(a, &ctx.scope, &q)?;
    let (cb, args_b) = records::where_clause(b, &ctx.scope, &q)?;
    let cb = shift_params(&cb, args.len());
    args.extend(args_b);
    let with = format!("WITH a AS (SELECT * FROM {} WHERE {ca}), b AS (SELECT * FROM {} WHERE {cb})", a.table_name(), b.table_name());
    let cols = "a.id, b.id, p.id, p.name, a.place_id, b.subject_id";
    let join = "FROM a JOIN persons p ON p.id = a.subject_id JOIN b ON b.subject_id = p.household_id";
    let (sql, standing) = match (&a.time, &b.time) {
        (TimeModel::Event { field: fa }, TimeModel::Event { field: fb }) => {
            let (ta, tb) = (quote(fa), quote(fb));
            let sql = format!("{with} SELECT {cols}, a.{ta} {join} AND b.{tb} = a.{ta} ORDER BY p.id, a.{ta}, a.id, b.id");
            (sql, false)
        }
        (TimeModel::Standing { start: sa, end: ea }, TimeModel::Standing { start: sb, end: eb }) => {
            let (sa, ea, sb, eb) = (quote(sa), quote(ea), quote(sb), quote(eb));
            let sql = format!(
                "{with} SELECT {cols}, a.{sa}, a.{ea}, b.{sb}, b.{eb} {join} \
                 AND (b.{eb} IS NULL OR a.{sa} <= b.{eb}) AND (a.{ea} IS NULL OR b.{sb} <= a.{ea}) ORDER BY p.id, a.{sa}, a.id, b.id"
            );
            (sql, true)
        }
        _ => {
            return Err(ReportError::Check(format!(
                "检查「{}」：两本台账应同为按事件记的台账（同月比对）或同为在册类台账（在册期间比对）",
                c.key
            )))
        }
    };
    let mut groups: Vec<Group> = Vec::new();
    for r in tx.fetch(&sql, &args).await? {
        let when = if standing {
            // The days both were in force, within the period up to the as-of day.
            let from = [r.opt_date(6), r.opt_date(8), Some(period.start)].into_iter().flatten().max();
            let to = [r.opt_date(7), r.opt_date(9), Some(period.end)].into_iter().flatten().min();
            match (from, to) {
                (Some(f), Some(t)) if f <= t => span(f, t),
                _ => continue,
            }
        } else {
            cell_text(&r, 6)
        };
        let i = match groups.iter().position(|g| g.person == r.int(2)) {
            Some(i) => i,
            None => {
                groups.push(Group {
                    person: r.int(2),
                    name: r.text(3),
                    household: r.int(5),
                    place: r.opt_int(4),
                    when: vec![],
                    ids_a: vec![],
                    ids_b: vec![],
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        push_once(&mut g.when, when);
        push_once(&mut g.ids_a, r.int(0));
        push_once(&mut g.ids_b, r.int(1));
    }
    let mut out = Vec::new();
    for g in groups {
        let (village, at) = names.where_text(tx, g.place).await?;
        let hh = names.subject(tx, SubjectKind::Household, Some(g.household)).await?;
        let message = if standing {
            format!(
                "{at}「{}」：{} 既是「{}」在册对象（第 {} 号记录），所在户「{hh}」又在「{}」在册（第 {} 号记录）",
                g.name,
                g.when.join("、"),
                a.name,
                ids_text(&g.ids_a),
                b.name,
                ids_text(&g.ids_b)
            )
        } else {
            format!(
                "{at}「{}」在 {} 同时领取「{}」（第 {} 号记录）和所在户「{hh}」的「{}」（第 {} 号记录）",
                g.name,
                g.when.join("、"),
                a.name,
                ids_text(&g.ids_a),
                b.name,
                ids_text(&g.ids_b)
            )
        };
        out.push(Found {
            message,
            ledger: a.key.clone(),
            record_ids: g.ids_a,
            other_ledger: b.key.clone(),
            other_record_ids: g.ids_b,
            person_ids: vec![g.person],
            subject: g.name,
            place_id: g.place,
            village,
        });
    }
    Ok(out)
}

fn span(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from} 至 {to}")
    }
}
