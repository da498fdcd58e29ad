//! Checks across the towns of one county database (`catalogue/checks/county.toml`): the same
//! subject paid by two towns in one month (`paid_in_two_towns`), a person registered in one
//! town while their household or an enrolment of theirs is kept by another
//! (`registered_in_other_town`), a payment by one town after a death registered in another
//! (`paid_after_death_in_other_town`), a cadre visiting in two towns on one day
//! (`visitor_in_two_towns`).
//!
//! A place's town is its town-level ancestor; a place above the towns has none and never meets
//! another, so on a single town's database these checks have nothing to say.
//!
//! Each finding has two parts, one per town. A run whose scope covers both towns (the county)
//! sees both, named; a run confined to one town (or a village of it) sees only its own part and
//! is told that another town has something too — never the other town's names, ID numbers or
//! records, which its scope does not reach (docs/county.md).

use std::collections::HashMap;

use taizhang_domain::ledger::{FieldKind, LedgerDef, SubjectKind, TimeModel};
use taizhang_storage::ledgers::quote;
use taizhang_storage::records::{self, RecordQuery};
use taizhang_storage::{Arg, Engine, Row, Scope, Tx};

use super::{
    after_date, cell_text, ids_text, label, ledger, leaving_statuses, shift_params, time_field, CheckDef, Found,
    HouseholdRule, Names,
};
use crate::error::{ReportError, Result};
use crate::eval::Context;

/// Every place with its path and the town (镇) it lies in, as a CTE named `tw`.
const TOWN_OF: &str = "tw AS (SELECT p.id AS pid, p.path AS ppath, t.id AS tid FROM places p \
                       JOIN places t ON t.level = 'town' AND p.path LIKE t.path || '%')";

/// The rows of one of this module's queries, joined in the order written: the records paired
/// first (by subject and month, by visitor and day), then each side's town. `tw` is a join on
/// `LIKE` whose size PostgreSQL underestimates eightfold (369 places of 2,951), so it would
/// pair every place of a town with every place of a later town first and join those millions
/// of pairs to the records: the county's 低保 check ran past twelve minutes, and 2 s this way.
/// SQLite was not misled (the county's checks take 21–27 s there in all).
async fn fetch_as_written(tx: &mut Tx, sql: &str, args: &[Arg]) -> Result<Vec<Row>> {
    let pg = tx.engine() == Engine::Postgres;
    if pg {
        tx.exec("SET LOCAL join_collapse_limit = 1", &[]).await?;
    }
    let rows = tx.fetch(sql, args).await?;
    if pg {
        tx.exec("RESET join_collapse_limit", &[]).await?;
    }
    Ok(rows)
}

/// What the town-scoped reader is told in place of the other town's part.
const ONLY_COUNTY: &str = "详情仅县级用户可见";

/// A record of one side: id, place and the place's path.
#[derive(Clone)]
struct Rec {
    id: i64,
    place: i64,
    path: String,
}

/// One town's part of a finding: its records, or for a registry part the place where the
/// person or household is registered.
struct Side {
    town: i64,
    recs: Vec<Rec>,
    /// The registry part's place (id, path); none for a part made of records.
    registry: Option<(i64, String)>,
}

impl Side {
    fn records(town: i64) -> Side {
        Side { town, recs: vec![], registry: None }
    }

    fn push(&mut self, r: &Row, i: usize) {
        let id = r.int(i);
        if !self.recs.iter().any(|x| x.id == id) {
            self.recs.push(Rec { id, place: r.int(i + 1), path: r.text(i + 2) });
        }
    }

    fn place(&self) -> Option<i64> {
        self.registry.as_ref().map(|p| p.0).or_else(|| self.recs.first().map(|r| r.place))
    }

    fn ids(&self) -> Vec<i64> {
        self.recs.iter().map(|r| r.id).collect()
    }

    /// The part the scope reaches: its records in scope, or its registry place in scope.
    fn within(&self, scope: &Scope) -> Option<Side> {
        let recs: Vec<Rec> = self.recs.iter().filter(|r| r.path.starts_with(&scope.path)).cloned().collect();
        let registry = self.registry.clone().filter(|p| p.1.starts_with(&scope.path));
        (!recs.is_empty() || registry.is_some()).then_some(Side { town: self.town, recs, registry })
    }
}

/// What a run's scope sees of a finding's two parts.
enum Sight {
    /// Both towns lie in scope: everything, named.
    Both,
    /// Only this part (0 or 1) lies in scope, narrowed to what the scope reaches.
    One(usize, Side),
}

/// Towns by id: name and path, looked up once per run.
#[derive(Default)]
struct Towns(HashMap<i64, (String, String)>);

impl Towns {
    async fn get(&mut self, tx: &mut Tx, id: i64) -> Result<(String, String)> {
        if let Some(t) = self.0.get(&id) {
            return Ok(t.clone());
        }
        let t = tx
            .fetch_opt("SELECT name, path FROM places WHERE id = $1", &[Arg::Int(id)])
            .await?
            .map_or((String::new(), String::new()), |r| (r.text(0), r.text(1)));
        self.0.insert(id, t.clone());
        Ok(t)
    }

    async fn sight(&mut self, tx: &mut Tx, scope: &Scope, sides: &[Side; 2]) -> Result<Option<Sight>> {
        let (a, b) = (self.get(tx, sides[0].town).await?.1, self.get(tx, sides[1].town).await?.1);
        if a.starts_with(&scope.path) && b.starts_with(&scope.path) {
            return Ok(Some(Sight::Both));
        }
        Ok(sides.iter().enumerate().find_map(|(i, s)| s.within(scope).map(|s| Sight::One(i, s))))
    }

    /// 「北斗溪镇坪溪村」: the town and the village of a place (the town alone for a place above
    /// any village).
    async fn at(&mut self, tx: &mut Tx, names: &mut Names, side: &Side) -> Result<(String, String)> {
        let town = self.get(tx, side.town).await?.0;
        let (village, _) = names.where_text(tx, side.place()).await?;
        Ok((village.clone(), format!("{town}{village}")))
    }
}

/// `(w1.ppath LIKE $n OR w2.ppath LIKE $n)`: at least one part in scope, so a town's run does
/// not go through findings that are all another town's.
fn either_in_scope(scope: &Scope, args: &mut Vec<Arg>) -> String {
    args.push(scope.arg());
    let n = args.len();
    format!("(w1.ppath LIKE ${n} OR w2.ppath LIKE ${n})")
}

fn villages(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty(), a == b) {
        (true, _, _) => b.to_string(),
        (_, true, _) | (_, _, true) => a.to_string(),
        _ => format!("{a}、{b}"),
    }
}

/// Findings as they are gathered, in the order first met: a key and what has been found for it.
type Groups<K, G> = Vec<(K, G)>;

/// Finds the group of `key` in `groups`, or starts one.
fn group<K: PartialEq, G>(groups: &mut Groups<K, G>, key: K, new: impl FnOnce() -> G) -> &mut G {
    let i = match groups.iter().position(|g| g.0 == key) {
        Some(i) => i,
        None => {
            groups.push((key, new()));
            groups.len() - 1
        }
    };
    &mut groups[i].1
}

fn push_once<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn event_ledger<'a>(c: &CheckDef, key: Option<&String>, ledgers: &'a [LedgerDef]) -> Result<&'a LedgerDef> {
    let def = ledger(c, key, ledgers)?;
    if !matches!(def.time, TimeModel::Event { .. }) {
        return Err(ReportError::Check(format!("检查「{}」：台账「{}」应是按事件记的台账", c.key, def.key)));
    }
    Ok(def)
}

fn subject_table(c: &CheckDef, def: &LedgerDef) -> Result<&'static str> {
    match def.subject {
        SubjectKind::Person => Ok("persons"),
        SubjectKind::Household => Ok("households"),
        _ => Err(ReportError::Check(format!("检查「{}」：台账「{}」的记录对象不是人员或户", c.key, def.key))),
    }
}

/// The same subject in `ledger` at places of two towns for the same month (or day): one
/// finding per subject and pair of towns.
pub(super) async fn paid_in_two_towns(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let def = event_ledger(c, c.ledger.as_ref(), ledgers)?;
    subject_table(c, def)?;
    let Some(period) = ctx.period_to_as_of() else { return Ok(vec![]) };
    let q = RecordQuery { period: Some(period), ..Default::default() };
    let (cond, mut args) = records::where_clause(def, &Scope::all(), &q)?;
    let tf = quote(time_field(def));
    let scoped = either_in_scope(&ctx.scope, &mut args);
    // Towns in id order, so each pair is found once.
    let sql = format!(
        "WITH {TOWN_OF}, t AS (SELECT * FROM {} WHERE {cond}) \
         SELECT a.subject_id, a.{tf}, w1.tid, w2.tid, a.id, a.place_id, w1.ppath, b.id, b.place_id, w2.ppath \
         FROM t a JOIN t b ON b.subject_id = a.subject_id AND b.{tf} = a.{tf} \
         JOIN tw w1 ON w1.pid = a.place_id JOIN tw w2 ON w2.pid = b.place_id AND w2.tid > w1.tid \
         WHERE a.subject_id IS NOT NULL AND {scoped} ORDER BY a.subject_id, w1.tid, w2.tid, a.{tf}, a.id, b.id",
        def.table_name()
    );
    // (subject, town, town) → months, the two towns' records
    type Paid = (Vec<String>, [Side; 2]);
    let mut groups: Groups<(i64, i64, i64), Paid> = Vec::new();
    for r in fetch_as_written(tx, &sql, &args).await? {
        let (t1, t2) = (r.int(2), r.int(3));
        let g = group(&mut groups, (r.int(0), t1, t2), || (vec![], [Side::records(t1), Side::records(t2)]));
        push_once(&mut g.0, cell_text(&r, 1));
        g.1[0].push(&r, 4);
        g.1[1].push(&r, 7);
    }
    let mut towns = Towns::default();
    let mut out = Vec::new();
    for ((sid, _, _), (months, sides)) in groups {
        let Some(sight) = towns.sight(tx, &ctx.scope, &sides).await? else { continue };
        let who = names.subject(tx, def.subject, Some(sid)).await?;
        let person_ids = if def.subject == SubjectKind::Person { vec![sid] } else { vec![] };
        let when = months.join("、");
        let found = match sight {
            Sight::Both => {
                let (v1, at1) = towns.at(tx, names, &sides[0]).await?;
                let (v2, at2) = towns.at(tx, names, &sides[1]).await?;
                let message = format!(
                    "「{who}」在 {when} 由两个镇发放「{}」：{at1}第 {} 号记录，{at2}第 {} 号记录，疑似在两镇重复享受",
                    def.name,
                    ids_text(&sides[0].ids()),
                    ids_text(&sides[1].ids())
                );
                Found {
                    message,
                    ledger: def.key.clone(),
                    record_ids: sides[0].ids(),
                    other_ledger: def.key.clone(),
                    other_record_ids: sides[1].ids(),
                    person_ids,
                    subject: who,
                    place_id: sides[0].place(),
                    village: villages(&v1, &v2),
                }
            }
            Sight::One(_, mine) => {
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!(
                    "{at}「{who}」在 {when} 的「{}」第 {} 号记录，另一镇也有其同月的发放记录（{ONLY_COUNTY}），疑似在两镇重复享受",
                    def.name,
                    ids_text(&mine.ids())
                );
                Found { message, person_ids, subject: who, place_id: mine.place(), village, ..Found::records(&def.key, mine.ids()) }
            }
        };
        out.push(found);
    }
    Ok(out)
}

/// Without `ledger`: a living person registered in one town whose household is registered in
/// another. With a standing `ledger`: enrolments in force on the as-of day kept by a town other
/// than the one their subject is registered in.
pub(super) async fn registered_in_other_town(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    if c.ledger.is_none() {
        return household_in_other_town(tx, ctx, names).await;
    }
    let def = ledger(c, c.ledger.as_ref(), ledgers)?;
    let table = subject_table(c, def)?;
    if !matches!(def.time, TimeModel::Standing { .. }) {
        // A payment made before the subject moved stays with the town that made it: only
        // standing enrolments say where the subject is looked after now.
        return Err(ReportError::Check(format!("检查「{}」：台账「{}」应是在册类台账（有起止日期）", c.key, def.key)));
    }
    let q = RecordQuery { as_of: Some(ctx.as_of), ..Default::default() };
    let (cond, mut args) = records::where_clause(def, &Scope::all(), &q)?;
    let scoped = either_in_scope(&ctx.scope, &mut args);
    // w1: where the subject is registered; w2: the town keeping the record.
    let sql = format!(
        "WITH {TOWN_OF}, t AS (SELECT * FROM {} WHERE {cond}) \
         SELECT t.subject_id, s.place_id, w1.ppath, w1.tid, w2.tid, t.id, t.place_id, w2.ppath \
         FROM t JOIN {table} s ON s.id = t.subject_id JOIN tw w1 ON w1.pid = s.place_id \
         JOIN tw w2 ON w2.pid = t.place_id AND w2.tid <> w1.tid WHERE {scoped} ORDER BY t.subject_id, w2.tid, t.id",
        def.table_name()
    );
    let mut groups: Groups<(i64, i64), [Side; 2]> = Vec::new();
    for r in fetch_as_written(tx, &sql, &args).await? {
        let (t1, t2) = (r.int(3), r.int(4));
        let g = group(&mut groups, (r.int(0), t2), || {
            [Side { town: t1, recs: vec![], registry: Some((r.int(1), r.text(2))) }, Side::records(t2)]
        });
        g[1].push(&r, 5);
    }
    let mut towns = Towns::default();
    let mut out = Vec::new();
    for ((sid, _), sides) in groups {
        let Some(sight) = towns.sight(tx, &ctx.scope, &sides).await? else { continue };
        let who = names.subject(tx, def.subject, Some(sid)).await?;
        let person_ids = if def.subject == SubjectKind::Person { vec![sid] } else { vec![] };
        let found = match sight {
            Sight::Both => {
                let (v1, at1) = towns.at(tx, names, &sides[0]).await?;
                let (v2, at2) = towns.at(tx, names, &sides[1]).await?;
                let message = format!(
                    "「{who}」登记在{at1}，截至 {} 却在{at2}的「{}」在册（第 {} 号记录）：同一对象涉及两个镇，请核实由哪个镇管理，另一镇办理终止或转移",
                    ctx.as_of,
                    def.name,
                    ids_text(&sides[1].ids())
                );
                Found {
                    message,
                    person_ids,
                    subject: who,
                    place_id: sides[1].place(),
                    village: villages(&v1, &v2),
                    ..Found::records(&def.key, sides[1].ids())
                }
            }
            Sight::One(0, mine) => {
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!("{at}「{who}」（本镇登记）截至 {} 在另一镇的「{}」中在册（{ONLY_COUNTY}）", ctx.as_of, def.name);
                // The ledger is named though none of its records is shown, so that a reader
                // who may not read it (a 业务员 not assigned 特困) is not shown this either.
                Found { message, person_ids, subject: who, place_id: mine.place(), village, ..Found::records(&def.key, vec![]) }
            }
            Sight::One(_, mine) => {
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!(
                    "{at}「{who}」：本镇「{}」第 {} 号记录截至 {} 在册，其人员登记在另一镇（{ONLY_COUNTY}）",
                    def.name,
                    ids_text(&mine.ids()),
                    ctx.as_of
                );
                Found { message, person_ids, subject: who, place_id: mine.place(), village, ..Found::records(&def.key, mine.ids()) }
            }
        };
        out.push(found);
    }
    Ok(out)
}

/// A living person registered in one town, member of a household registered in another.
async fn household_in_other_town(tx: &mut Tx, ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let mut args = Vec::new();
    let scoped = either_in_scope(&ctx.scope, &mut args);
    let sql = format!(
        "WITH {TOWN_OF} SELECT p.id, p.name, p.place_id, w1.ppath, w1.tid, h.id, h.number, h.place_id, w2.ppath, w2.tid \
         FROM persons p JOIN households h ON h.id = p.household_id JOIN tw w1 ON w1.pid = p.place_id \
         JOIN tw w2 ON w2.pid = h.place_id AND w2.tid <> w1.tid WHERE p.status = 'alive' AND {scoped} ORDER BY p.id"
    );
    let mut towns = Towns::default();
    let mut out = Vec::new();
    for r in fetch_as_written(tx, &sql, &args).await? {
        let (pid, pname, hid, number) = (r.int(0), r.text(1), r.int(5), r.text(6));
        let sides = [
            Side { town: r.int(4), recs: vec![], registry: Some((r.int(2), r.text(3))) },
            Side { town: r.int(9), recs: vec![], registry: Some((r.int(7), r.text(8))) },
        ];
        let Some(sight) = towns.sight(tx, &ctx.scope, &sides).await? else { continue };
        let found = match sight {
            Sight::Both => {
                let (v1, at1) = towns.at(tx, names, &sides[0]).await?;
                let (v2, at2) = towns.at(tx, names, &sides[1]).await?;
                let hh = names.subject(tx, SubjectKind::Household, Some(hid)).await?;
                let message = format!(
                    "「{pname}」（人员编号 {pid}）登记在{at1}，却是{at2}「{hh}」的成员：同一公民身份号码出现在两个镇的人员登记中，请核实户籍所在镇"
                );
                Found { message, person_ids: vec![pid], subject: pname, place_id: Some(r.int(2)), village: villages(&v1, &v2), ..Found::records("", vec![]) }
            }
            Sight::One(0, mine) => {
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!("{at}「{pname}」（本镇登记，人员编号 {pid}）所在户登记在另一镇（{ONLY_COUNTY}），请核实户籍所在镇");
                Found { message, person_ids: vec![pid], subject: pname, place_id: mine.place(), village, ..Found::records("", vec![]) }
            }
            Sight::One(_, mine) => {
                // The household is named by its number only: its head may be the person
                // registered in the other town.
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!("{at}户 {number} 有一名成员的人员登记在另一镇（{ONLY_COUNTY}），请核实户籍所在镇");
                Found { message, subject: format!("户 {number}"), place_id: mine.place(), village, ..Found::records("", vec![]) }
            }
        };
        out.push(found);
    }
    Ok(out)
}

/// Payments by one town dated after the month its recipient died, the death registered in
/// another town (a household's payments: its head's death, `household = "head"`).
pub(super) async fn paid_after_death_in_other_town(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let engine = tx.engine();
    let def = event_ledger(c, c.ledger.as_ref(), ledgers)?;
    let household = match subject_table(c, def)? {
        "households" if c.household != HouseholdRule::Head => {
            return Err(ReportError::Check(format!("检查「{}」：跨镇核查只按户主判断（household = \"head\"）", c.key)))
        }
        "households" => true,
        _ => false,
    };
    let statuses = leaving_statuses(c)?;
    let Some(period) = ctx.period_to_as_of() else { return Ok(vec![]) };
    let q = RecordQuery { period: Some(period), ..Default::default() };
    let (cond, mut args) = records::where_clause(def, &Scope::all(), &q)?;
    let ps: Vec<String> = statuses
        .iter()
        .map(|s| {
            args.push(Arg::Text(s.key().to_string()));
            format!("${}", args.len())
        })
        .collect();
    args.push(Arg::Date(ctx.as_of));
    let d = args.len();
    let (sid, from) = if household { ("h.id", "households h JOIN persons p ON p.id = h.head_person_id") } else { ("p.id", "persons p") };
    let leavers = format!(
        "SELECT {sid} AS sid, p.id AS pid, p.name AS pname, p.status AS pstatus, p.status_date AS pdate, p.place_id AS pplace \
         FROM {from} WHERE p.status IN ({}) AND p.status_date IS NOT NULL AND p.status_date <= ${d}",
        ps.join(", ")
    );
    let tf = time_field(def).to_string();
    let col = format!("t.{}", quote(&tf));
    let scoped = either_in_scope(&ctx.scope, &mut args);
    // w1: where the death is registered; w2: the town paying.
    let sql = format!(
        "WITH {TOWN_OF}, t AS (SELECT * FROM {} WHERE {cond}), l AS ({leavers}) \
         SELECT l.pid, l.pname, l.pstatus, l.pdate, l.pplace, w1.ppath, w1.tid, w2.tid, t.subject_id, t.id, t.place_id, w2.ppath, {col} \
         FROM t JOIN l ON l.sid = t.subject_id JOIN tw w1 ON w1.pid = l.pplace JOIN tw w2 ON w2.pid = t.place_id AND w2.tid <> w1.tid \
         WHERE {} AND {scoped} ORDER BY l.pid, w2.tid, {col}, t.id",
        def.table_name(),
        after_date(engine, def, &tf, &col, "l.pdate")
    );
    // (person, paying town) → (subject, name, status, date, when paid, [registry, payments])
    type Group = (i64, String, String, String, Vec<String>, [Side; 2]);
    let mut groups: Groups<(i64, i64), Group> = Vec::new();
    for r in fetch_as_written(tx, &sql, &args).await? {
        let (t1, t2) = (r.int(6), r.int(7));
        let g = group(&mut groups, (r.int(0), t2), || {
            let status = taizhang_domain::registry::PersonStatus::parse(&r.text(2)).map_or_else(|| r.text(2), |s| s.label().to_string());
            let registry = Side { town: t1, recs: vec![], registry: Some((r.int(4), r.text(5))) };
            (r.int(8), r.text(1), status, cell_text(&r, 3), vec![], [registry, Side::records(t2)])
        });
        push_once(&mut g.4, cell_text(&r, 12));
        g.5[1].push(&r, 9);
    }
    let tl = label(def, &tf);
    let mut towns = Towns::default();
    let mut out = Vec::new();
    for ((pid, _), (sid, pname, status, died, when, sides)) in groups {
        let Some(sight) = towns.sight(tx, &ctx.scope, &sides).await? else { continue };
        let who = names.subject(tx, def.subject, Some(sid)).await?;
        let whom = if household { format!("「{who}」（户主「{pname}」）") } else { format!("「{pname}」") };
        let when = when.join("、");
        let found = match sight {
            Sight::Both => {
                let (v1, at1) = towns.at(tx, names, &sides[0]).await?;
                let (v2, at2) = towns.at(tx, names, &sides[1]).await?;
                let message = format!(
                    "「{pname}」（人员编号 {pid}）在{at1}登记已于 {died} {status}，{at2}此后仍向{whom}发放「{}」：第 {} 号记录（{tl} {when}）",
                    def.name,
                    ids_text(&sides[1].ids())
                );
                Found {
                    message,
                    person_ids: vec![pid],
                    subject: who,
                    place_id: sides[1].place(),
                    village: villages(&v1, &v2),
                    ..Found::records(&def.key, sides[1].ids())
                }
            }
            Sight::One(0, mine) => {
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!(
                    "{at}「{pname}」（本镇登记，人员编号 {pid}）已于 {died} {status}，另一镇在此后仍有其「{}」发放记录（{ONLY_COUNTY}），请告知该镇停发",
                    def.name
                );
                // Named by its ledger, no record shown: see `registered_in_other_town`.
                Found { message, person_ids: vec![pid], subject: pname, place_id: mine.place(), village, ..Found::records(&def.key, vec![]) }
            }
            Sight::One(_, mine) => {
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!(
                    "{at}「{who}」：本镇「{}」第 {} 号记录（{tl} {when}）在{}的人员登记所在的另一镇已登记{status}之后（{ONLY_COUNTY}），请停发并核实",
                    def.name,
                    ids_text(&mine.ids()),
                    if household { "其户主" } else { "其" }
                );
                Found { message, subject: who, place_id: mine.place(), village, ..Found::records(&def.key, mine.ids()) }
            }
        };
        out.push(found);
    }
    Ok(out)
}

/// One cadre recorded as visitor (`fields[0]`, a reference to a cadre) at places of two towns
/// on the same day, in `ledger` and `other_ledger` (the same ledger when not given).
pub(super) async fn visitor_in_two_towns(tx: &mut Tx, c: &CheckDef, ledgers: &[LedgerDef], ctx: &Context, names: &mut Names) -> Result<Vec<Found>> {
    let a = event_ledger(c, c.ledger.as_ref(), ledgers)?;
    let b = event_ledger(c, c.other_ledger.as_ref().or(c.ledger.as_ref()), ledgers)?;
    let v = c
        .fields
        .first()
        .filter(|f| [a, b].iter().all(|d| d.field(f).is_some_and(|x| x.kind == FieldKind::Reference)))
        .ok_or_else(|| ReportError::Check(format!("检查「{}」：fields 应为两本台账共有的走访人（干部）字段", c.key)))?;
    let Some(period) = ctx.period_to_as_of() else { return Ok(vec![]) };
    let q = RecordQuery { period: Some(period), ..Default::default() };
    let (ca, mut args) = records::where_clause(a, &Scope::all(), &q)?;
    let (cb, args_b) = records::where_clause(b, &Scope::all(), &q)?;
    let cb = shift_params(&cb, args.len());
    args.extend(args_b);
    let scoped = either_in_scope(&ctx.scope, &mut args);
    let (v, ta, tb) = (quote(v), quote(time_field(a)), quote(time_field(b)));
    // One ledger: each pair of towns once, in id order; two ledgers: every pair.
    let op = if a.key == b.key { ">" } else { "<>" };
    // First the (visitor, day) pairs seen in two towns or more, in one grouping pass over both
    // ledgers; only their visits are then paired. Pairing every visit with every visit of its day
    // (no index leads with the visitor) took minutes on a county's 400,000 visits. An index on
    // (visitor, visited_on) would not serve this query as written: `a` and `b` are used twice, so
    // both engines materialise them and join the copies (SQLite with an automatic index of its
    // own); a plan on a synthetic 400,000-visit table was the same with and without it. Ledger
    // tables are made from definitions at run time, so no migration could create it either.
    let sql = format!(
        "WITH {TOWN_OF}, a AS (SELECT * FROM {} WHERE {ca}), b AS (SELECT * FROM {} WHERE {cb}), \
         pairs AS MATERIALIZED (SELECT x.v, x.d FROM (SELECT {v} AS v, {ta} AS d, place_id FROM a \
         UNION ALL SELECT {v}, {tb}, place_id FROM b) x JOIN tw ON tw.pid = x.place_id WHERE x.v IS NOT NULL \
         GROUP BY x.v, x.d HAVING MIN(tw.tid) <> MAX(tw.tid)) \
         SELECT a.{v}, a.{ta}, w1.tid, w2.tid, a.id, a.place_id, w1.ppath, b.id, b.place_id, w2.ppath \
         FROM pairs JOIN a ON a.{v} = pairs.v AND a.{ta} = pairs.d JOIN b ON b.{v} = a.{v} AND b.{tb} = a.{ta} \
         JOIN tw w1 ON w1.pid = a.place_id JOIN tw w2 ON w2.pid = b.place_id AND w2.tid {op} w1.tid \
         WHERE {scoped} ORDER BY a.{v}, a.{ta}, w1.tid, w2.tid, a.id, b.id",
        a.table_name(),
        b.table_name()
    );
    let mut groups: Groups<(i64, String, i64, i64), [Side; 2]> = Vec::new();
    for r in fetch_as_written(tx, &sql, &args).await? {
        let (t1, t2) = (r.int(2), r.int(3));
        let g = group(&mut groups, (r.int(0), cell_text(&r, 1), t1, t2), || [Side::records(t1), Side::records(t2)]);
        g[0].push(&r, 4);
        g[1].push(&r, 7);
    }
    let mut towns = Towns::default();
    let mut cadres: HashMap<i64, String> = HashMap::new();
    let mut out = Vec::new();
    for ((cadre, day, _, _), sides) in groups {
        let Some(sight) = towns.sight(tx, &ctx.scope, &sides).await? else { continue };
        let who = match cadres.get(&cadre) {
            Some(n) => n.clone(),
            None => {
                let n = tx
                    .fetch_opt("SELECT name FROM cadres WHERE id = $1", &[Arg::Int(cadre)])
                    .await?
                    .map_or(format!("干部编号 {cadre}"), |r| r.text(0));
                cadres.insert(cadre, n.clone());
                n
            }
        };
        let found = match sight {
            Sight::Both => {
                let (v1, at1) = towns.at(tx, names, &sides[0]).await?;
                let (v2, at2) = towns.at(tx, names, &sides[1]).await?;
                let message = format!(
                    "走访人「{who}」{day} 同一天在两个镇有走访记录：{at1}「{}」第 {} 号，{at2}「{}」第 {} 号，请核实走访日期或走访人",
                    a.name,
                    ids_text(&sides[0].ids()),
                    b.name,
                    ids_text(&sides[1].ids())
                );
                Found {
                    message,
                    ledger: a.key.clone(),
                    record_ids: sides[0].ids(),
                    other_ledger: b.key.clone(),
                    other_record_ids: sides[1].ids(),
                    person_ids: vec![],
                    subject: who,
                    place_id: sides[0].place(),
                    village: villages(&v1, &v2),
                }
            }
            Sight::One(i, mine) => {
                let def = if i == 0 { a } else { b };
                let (village, at) = towns.at(tx, names, &mine).await?;
                let message = format!(
                    "{at}走访人「{who}」{day} 的「{}」第 {} 号记录，同一天另一镇也有该走访人的走访记录（{ONLY_COUNTY}），请核实走访日期或走访人",
                    def.name,
                    ids_text(&mine.ids())
                );
                Found { message, subject: who, place_id: mine.place(), village, ..Found::records(&def.key, mine.ids()) }
            }
        };
        out.push(found);
    }
    Ok(out)
}
