//! The 花名册 import a batch at a time: persons found by ID number and households by number
//! for a whole batch in one query each, new persons and households written with multi-row
//! `INSERT`s, already in their household with their relation, heads set with one `UPDATE`.
//!
//! The rules are those of `persons::create`, `households::create` and `households::add_member`;
//! the caller has checked them (and scope) for every row it hands over, and sends anything
//! else through those functions one row at a time. What differs is the audit: persons and
//! households created together have one entry per run of consecutive ids in one place
//! (`audit::append_runs`), naming the file, as a ledger import's records do. A person so
//! created is, until their first change, what the entry says was created: their membership
//! and relation are part of the row, not a second entry.

use std::collections::HashMap;

use taizhang_domain::idcard::Sex;
use taizhang_domain::registry::{Household, NewPerson, Person};
use taizhang_domain::relation::HEAD;
use taizhang_domain::role::Actor;

use crate::audit;
use crate::backend::Tx;
use crate::error::{Result, StoreError};
use crate::sql::Arg;

/// Bind parameters per statement (see `batch::MAX_PARAMS`).
const MAX_PARAMS: usize = 8_000;

/// A registered person, with the path of their place (for scope, and for a roster naming the
/// village of someone registered in one of its groups).
#[derive(Debug, Clone)]
pub struct KnownPerson {
    pub person: Person,
    pub place_path: String,
}

/// A registered household, with the path of its place and its head's ID number.
#[derive(Debug, Clone)]
pub struct KnownHousehold {
    pub household: Household,
    pub place_path: String,
    pub head_id_number: Option<String>,
}

/// Persons by ID number and households by number, in or out of any scope: the caller decides
/// what its scope lets it see (as the one-row functions do, an out-of-scope one is "not
/// found" there). Each key is looked up once, in chunks.
pub async fn find(
    tx: &mut Tx,
    id_numbers: &[&str],
    numbers: &[&str],
) -> Result<(HashMap<String, KnownPerson>, HashMap<String, KnownHousehold>)> {
    let mut persons = HashMap::new();
    let mut ids: Vec<&str> = id_numbers.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for part in ids.chunks(MAX_PARAMS) {
        let sql = format!(
            "SELECT {}, pl.path FROM persons p JOIN places pl ON pl.id = p.place_id WHERE p.id_number IN ({})",
            crate::persons::COLUMNS,
            tx.placeholders(1, part.len())
        );
        let args: Vec<Arg> = part.iter().map(|s| Arg::Text((*s).to_string())).collect();
        for r in tx.fetch(&sql, &args).await? {
            let person = crate::persons::from_row(&r);
            let place_path = r.text(15);
            persons.insert(person.id_number.clone(), KnownPerson { person, place_path });
        }
    }
    let mut households = HashMap::new();
    let mut keys: Vec<&str> = numbers.to_vec();
    keys.sort_unstable();
    keys.dedup();
    for part in keys.chunks(MAX_PARAMS) {
        let sql = format!(
            "SELECT h.id, h.number, h.place_id, h.head_person_id, h.row_version, pl.path, hp.id_number
             FROM households h JOIN places pl ON pl.id = h.place_id LEFT JOIN persons hp ON hp.id = h.head_person_id
             WHERE h.number IN ({})",
            tx.placeholders(1, part.len())
        );
        let args: Vec<Arg> = part.iter().map(|s| Arg::Text((*s).to_string())).collect();
        for r in tx.fetch(&sql, &args).await? {
            let household = Household { id: r.int(0), number: r.text(1), place_id: r.int(2), head_person_id: r.opt_int(3), row_version: r.int(4) };
            households.insert(household.number.clone(), KnownHousehold { household, place_path: r.text(5), head_id_number: r.opt_text(6) });
        }
    }
    Ok((persons, households))
}

/// A household to create: its number and place.
#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub number: String,
    pub place_id: i64,
}

/// Which household a new person joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joins {
    /// A registered household (its id).
    Registered(i64),
    /// One of the households created with them (an index into those).
    New(usize),
}

/// A person to register, and the household they join with their relation (GB/T 4761, as
/// `relation::normalize` gives it). Whoever joins as 户主 becomes the household's head, which
/// the caller has checked it has none.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub person: NewPerson,
    pub joins: Option<(Joins, &'static str)>,
}

/// What `insert` wrote: the ids of the households and persons, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Written {
    pub household_ids: Vec<i64>,
    pub person_ids: Vec<i64>,
}

fn sex_key(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// Rows from which PostgreSQL gets them by `COPY` (see `batch`).
const COPY_FROM_ROWS: usize = 200;

/// Inserts rows of `per_row` values into `table` (a name from the program): by one `COPY` on
/// PostgreSQL when there are many (`Tx::copy_in`), else by multi-row `INSERT`s of at most
/// `MAX_PARAMS` parameters. Returns the ids in row order.
async fn insert_rows(tx: &mut Tx, table: &str, columns: &[&str], args: Vec<Arg>, per_row: usize) -> Result<Vec<i64>> {
    let n = args.len() / per_row;
    if n >= COPY_FROM_ROWS {
        let cols: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        if let Some(ids) = tx.copy_in(table, &cols, &args, per_row).await? {
            return Ok(ids);
        }
    }
    let mut ids = Vec::with_capacity(n);
    let mut args = args.into_iter();
    let mut left = n;
    while left > 0 {
        let k = left.min((MAX_PARAMS / per_row).max(1));
        let part: Vec<Arg> = args.by_ref().take(k * per_row).collect();
        let tuples: Vec<String> = (0..k).map(|r| format!("({})", tx.placeholders(r * per_row + 1, per_row))).collect();
        let sql = format!("INSERT INTO {table} ({}) VALUES {}", columns.join(", "), tuples.join(", "));
        ids.extend(tx.insert_many(&sql, part, k).await?);
        left -= k;
    }
    if let (Some(lo), Some(hi)) = (ids.first(), ids.last()) {
        tx.check_new_ids(table, *lo, *hi, n).await?;
    }
    Ok(ids)
}

/// In which order `insert` writes rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As given: ids follow it, as one-by-one creation would give them (the demo's).
    AsGiven,
    /// Grouped by place, in the order given within a place: consecutive ids in one place make
    /// one audit run, where a roster interleaving villages would make one per household.
    ByPlace,
}

/// The order to write `n` rows in, and for each row given its position in that order.
fn arrange(order: Order, places: impl Iterator<Item = i64>) -> Vec<usize> {
    let places: Vec<i64> = places.collect();
    let mut seq: Vec<usize> = (0..places.len()).collect();
    if order == Order::ByPlace {
        // A stable sort: within a place, rows keep the order they were given.
        seq.sort_by_key(|&i| places[i]);
    }
    seq
}

/// Creates the households, then the persons in them, in the caller's transaction; sets the
/// heads; audits both by runs (`note`: where they came from). Ids come back in the order
/// given, whatever `order` the rows were written in.
pub async fn insert(tx: &mut Tx, actor: &Actor, households: &[NewHousehold], members: &[NewMember], note: &str, order: Order) -> Result<Written> {
    let now = crate::now();
    let mut written = Written { household_ids: vec![0; households.len()], person_ids: vec![0; members.len()] };
    if !households.is_empty() {
        let seq = arrange(order, households.iter().map(|h| h.place_id));
        let mut args = Vec::with_capacity(households.len() * 4);
        for &i in &seq {
            let h = &households[i];
            args.extend([Arg::Text(h.number.trim().to_string()), Arg::Int(h.place_id), Arg::Time(now), Arg::Time(now)]);
        }
        let ids = insert_rows(tx, "households", &["number", "place_id", "created_at", "updated_at"], args, 4).await?;
        let placed: Vec<(i64, i64)> = ids.iter().zip(&seq).map(|(id, &i)| (*id, households[i].place_id)).collect();
        audit::append_runs(tx, actor, "create", "households", &audit::runs(&placed), note).await?;
        for (&i, id) in seq.iter().zip(ids) {
            written.household_ids[i] = id;
        }
    }
    let household_id = |j: &Joins| -> Result<i64> {
        match j {
            Joins::Registered(id) => Ok(*id),
            Joins::New(i) => written.household_ids.get(*i).copied().ok_or_else(|| StoreError::Internal(format!("没有第 {i} 个新户"))),
        }
    };
    let mut resolved: Vec<Option<(i64, &'static str)>> = Vec::with_capacity(members.len());
    for m in members {
        resolved.push(match &m.joins {
            Some((j, relation)) => Some((household_id(j)?, *relation)),
            None => None,
        });
    }
    if members.is_empty() {
        return Ok(written);
    }
    // Persons, each already in their household, as `add_member` would leave them (a second
    // row version).
    let seq = arrange(order, members.iter().map(|m| m.person.place_id));
    let mut args = Vec::with_capacity(members.len() * 14);
    for &i in &seq {
        let (p, joined) = (&members[i].person, &resolved[i]);
        args.extend([
            Arg::Text(p.name.clone()),
            Arg::Text(p.id_number.clone()),
            sex_key(p.sex).into(),
            Arg::Date(p.birth_date),
            Arg::Text(p.ethnicity.clone()),
            Arg::Text(p.phone.clone()),
            p.status.key().into(),
            p.status_date.into(),
            Arg::Int(p.place_id),
            joined.map(|(h, _)| h).into(),
            joined.map(|(_, r)| r.to_string()).into(),
            Arg::Int(if joined.is_some() { 2 } else { 1 }),
            Arg::Time(now),
            Arg::Time(now),
        ]);
    }
    let columns = [
        "name", "id_number", "sex", "birth_date", "ethnicity", "phone", "status", "status_date", "place_id", "household_id", "relation",
        "row_version", "created_at", "updated_at",
    ];
    let ids = insert_rows(tx, "persons", &columns, args, 14).await?;
    let placed: Vec<(i64, i64)> = ids.iter().zip(&seq).map(|(id, &i)| (*id, members[i].person.place_id)).collect();
    audit::append_runs(tx, actor, "create", "persons", &audit::runs(&placed), note).await?;
    for (&i, id) in seq.iter().zip(ids) {
        written.person_ids[i] = id;
    }
    // Heads: each household that a 户主 joined, as `add_member` sets it (a new row version).
    let heads: Vec<(i64, i64)> =
        resolved.iter().zip(&written.person_ids).filter_map(|(j, pid)| j.filter(|(_, r)| *r == HEAD).map(|(h, _)| (h, *pid))).collect();
    for part in heads.chunks(MAX_PARAMS / 3) {
        let mut args = Vec::with_capacity(part.len() * 3 + 1);
        let mut cases = String::new();
        for (h, p) in part {
            cases.push_str(&format!(" WHEN {} THEN {}", tx.placeholders(args.len() + 1, 1), tx.placeholders(args.len() + 2, 1)));
            args.extend([Arg::Int(*h), Arg::Int(*p)]);
        }
        // In the order of the text: SQLite's `?` are positional.
        let stamp = tx.placeholders(args.len() + 1, 1);
        args.push(Arg::Time(now));
        let list = tx.placeholders(args.len() + 1, part.len());
        args.extend(part.iter().map(|(h, _)| Arg::Int(*h)));
        let sql = format!(
            "UPDATE households SET head_person_id = CASE id{cases} END, row_version = row_version + 1, updated_at = {stamp} WHERE id IN ({list})"
        );
        let n = tx.exec(&sql, &args).await?;
        if n != part.len() as u64 {
            return Err(StoreError::Internal(format!("设置 {} 户的户主，更新了 {n} 户", part.len())));
        }
    }
    Ok(written)
}
