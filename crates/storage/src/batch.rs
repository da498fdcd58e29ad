//! Writing and looking up many records with few statements, for imports of hundreds of
//! thousands of rows. The rules are those of `records::create`; what differs is that the
//! caller resolves subjects for a whole batch in one query (`subjects_by_text`), the rows go
//! in with multi-row `INSERT`s (on PostgreSQL one `COPY` per batch, `Tx::copy_in`), and the
//! audit has one entry per run of them (`audit::Run`) instead of one per record.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use taizhang_domain::ledger::{LedgerDef, SubjectKind};
use taizhang_domain::role::Actor;
use taizhang_domain::validate::validate_record;
use taizhang_domain::value::{Record, Values};
use taizhang_domain::DomainError;

use crate::backend::Tx;
use crate::error::Result;
use crate::ledgers::quote;
use crate::records::{from_row, select_list, to_arg};
use crate::scope::Scope;
use crate::sql::Arg;

/// Bind parameters per statement. Both engines accept far more (SQLite 32 766, PostgreSQL
/// 65 535), but larger statements gain nothing and cost SQLite parse time.
const MAX_PARAMS: usize = 8_000;

/// Rows from which PostgreSQL gets them by `COPY` rather than a multi-row `INSERT`.
const COPY_FROM_ROWS: usize = 200;

/// The ids of every place in scope: lookups below filter by it in memory, which keeps the
/// planner on the key's index instead of scanning everything in scope.
async fn places_in_scope(tx: &mut Tx, scope: &Scope) -> Result<HashSet<i64>> {
    let rows = tx.fetch("SELECT id FROM places WHERE path LIKE $1", &[scope.arg()]).await?;
    Ok(rows.iter().map(|r| r.int(0)).collect())
}

/// A record checked by the domain's rules and ready to insert. Only `prepare` makes one.
#[derive(Debug, Clone)]
pub struct Prepared {
    place_id: i64,
    subject_id: Option<i64>,
    concerns_year: Option<i32>,
    values: Values,
}

/// Validates a new record as `records::create` does. The caller vouches that `place_id` and
/// `subject_id` (and any reference values) were resolved within its scope.
pub fn prepare(
    def: &LedgerDef,
    place_id: i64,
    subject_id: Option<i64>,
    concerns_year: Option<i32>,
    values: Values,
    today: NaiveDate,
) -> Result<Prepared> {
    if def.subject == SubjectKind::None && subject_id.is_some() {
        return Err(DomainError::Rule(format!("「{}」的记录没有记录对象", def.name)).into());
    }
    if def.subject != SubjectKind::None && subject_id.is_none() {
        return Err(DomainError::field("subject_id", def.subject.label(), "必须指定记录对象").into());
    }
    if concerns_year.is_some() && !def.concerns_year {
        return Err(DomainError::Rule(format!("「{}」的记录不填写所属年度", def.name)).into());
    }
    // Rebuilt only when there is a null to leave out: an import prepares a million of these.
    let values: Values = if values.values().any(|v| v.is_null()) { values.into_iter().filter(|(_, v)| !v.is_null()).collect() } else { values };
    validate_record(def, &values, today)?;
    Ok(Prepared { place_id, subject_id, concerns_year, values })
}

/// The columns of a ledger's inserts and each row's values for them.
struct Insertion<'d> {
    def: &'d LedgerDef,
    cols: Vec<String>,
    state: Option<String>,
    today: NaiveDate,
    now: String,
    by: String,
}

impl<'d> Insertion<'d> {
    fn new(def: &'d LedgerDef, actor: &Actor, today: NaiveDate) -> Self {
        let mut cols: Vec<String> = ["place_id", "subject_id", "state", "state_since", "concerns_year", "created_at", "updated_at", "created_by", "updated_by"]
            .into_iter()
            .map(String::from)
            .collect();
        cols.extend(def.fields.iter().map(|f| quote(&f.key)));
        Insertion {
            def,
            cols,
            state: def.workflow.as_ref().map(|w| w.initial.clone()),
            today,
            now: crate::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            by: actor.name().to_string(),
        }
    }

    fn push_args(&self, r: &Prepared, args: &mut Vec<Arg>) {
        args.push(Arg::Int(r.place_id));
        args.push(r.subject_id.into());
        args.push(self.state.clone().into());
        args.push(if self.state.is_some() { Arg::Date(self.today) } else { Arg::NullDate });
        args.push(r.concerns_year.map(i64::from).into());
        args.push(Arg::Text(self.now.clone()));
        args.push(Arg::Text(self.now.clone()));
        args.push(Arg::Text(self.by.clone()));
        args.push(Arg::Text(self.by.clone()));
        for f in &self.def.fields {
            args.push(to_arg(f.kind, r.values.get(&f.key).unwrap_or(&taizhang_domain::value::Value::Null)));
        }
    }
}

/// Inserts prepared records with multi-row `INSERT`s, in the caller's transaction, and audits
/// them with one entry per run of consecutive ids in one place (`audit::append_runs`), `note`
/// saying where they came from. Rows are written grouped by place, in their given order within
/// a place, so a statement's records make few runs. Returns each row's (id, place id), in
/// the order given.
pub async fn insert(tx: &mut Tx, def: &LedgerDef, actor: &Actor, rows: Vec<Prepared>, today: NaiveDate, note: &str) -> Result<Vec<(i64, i64)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // A stable sort: within a place, rows keep the order they were given.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].place_id);
    let mut out = vec![(0, 0); rows.len()];
    let ins = Insertion::new(def, actor, today);
    let per_row = ins.cols.len();
    // PostgreSQL takes a batch of rows by one `COPY`, which has no parameters to bound; a
    // few rows go by `INSERT … RETURNING` (a `COPY` costs two more queries, for its ids).
    let copy = tx.engine() == crate::Engine::Postgres && order.len() >= COPY_FROM_ROWS;
    let chunk = if copy { order.len() } else { (MAX_PARAMS / per_row).max(1) };
    let table = def.table_name();
    let total = rows.len();
    let mut id_range: Option<(i64, i64)> = None;
    for part in order.chunks(chunk) {
        let mut args = Vec::with_capacity(part.len() * per_row);
        for &i in part {
            ins.push_args(&rows[i], &mut args);
        }
        // Ids come from a rowid or sequence that grows in row order, so ascending ids line up
        // with the rows as given.
        let copied = if copy { tx.copy_in(&table, &ins.cols, &args, per_row).await? } else { None };
        let ids = match copied {
            Some(ids) => ids,
            None => {
                let tuples: Vec<String> = (0..part.len()).map(|k| format!("({})", tx.placeholders(k * per_row + 1, per_row))).collect();
                let sql = format!("INSERT INTO {table} ({}) VALUES {}", ins.cols.join(", "), tuples.join(", "));
                tx.insert_many(&sql, args, part.len()).await?
            }
        };
        id_range = Some(id_range.map_or((ids[0], ids[ids.len() - 1]), |(lo, _)| (lo, ids[ids.len() - 1])));
        let placed: Vec<(i64, i64)> = ids.iter().zip(part).map(|(id, &i)| (*id, rows[i].place_id)).collect();
        crate::audit::append_runs(tx, actor, "create", &table, &crate::audit::runs(&placed), note).await?;
        for (&i, p) in part.iter().zip(placed) {
            out[i] = p;
        }
    }
    if let Some((lo, hi)) = id_range {
        tx.check_new_ids(&table, lo, hi, total).await?;
    }
    Ok(out)
}

/// As `insert`, for rows that `next` hands over a part at a time until it returns `None`.
/// On PostgreSQL, when the caller expects at least `COPY_FROM_ROWS` rows, each part goes to
/// the server by one `COPY` as soon as it is handed over, so the server writes one part while
/// the caller decides the next (the caller must not need the transaction meanwhile); rows are
/// written in the order given within each part's places, so a caller that hands them over
/// grouped by place gets one audit run per place. Elsewhere the parts are collected and
/// written by `insert`. Returns each row's (id, place id), in the order handed over.
pub async fn insert_streamed(
    tx: &mut Tx,
    def: &LedgerDef,
    actor: &Actor,
    today: NaiveDate,
    note: &str,
    expected: usize,
    mut next: impl FnMut() -> Option<Vec<Prepared>>,
) -> Result<Vec<(i64, i64)>> {
    if tx.engine() != crate::Engine::Postgres || expected < COPY_FROM_ROWS {
        let mut all = Vec::new();
        while let Some(part) = next() {
            all.extend(part);
        }
        return insert(tx, def, actor, all, today, note).await;
    }
    // The `COPY` starts with the first row: a batch with nothing new costs no statement.
    let first = loop {
        match next() {
            None => return Ok(Vec::new()),
            Some(part) if part.is_empty() => continue,
            Some(part) => break part,
        }
    };
    let ins = Insertion::new(def, actor, today);
    let table = def.table_name();
    // For each row in the order sent: its place, and its position as handed over.
    let mut places: Vec<i64> = Vec::new();
    let mut given: Vec<usize> = Vec::new();
    let mut args = Vec::new();
    // Referential checks set-wise after the `COPY` where the session allows it
    // (`Tx::bulk_foreign_keys`), the rows' triggers off only while it runs.
    // Each key's column among those written, and the distinct values sent there.
    let mut keys: Option<Vec<(crate::ForeignKey, usize, BTreeSet<i64>)>> = tx.bulk_foreign_keys(&table).await?.and_then(|keys| {
        keys.into_iter()
            .map(|k| ins.cols.iter().position(|c| c.trim_matches('"') == k.column()).map(|i| (k, i, BTreeSet::new())))
            .collect()
    });
    if keys.is_some() {
        tx.set_triggers(false).await?;
    }
    let mut send = |part: Vec<Prepared>, args: &mut Vec<Arg>| {
        let mut order: Vec<usize> = (0..part.len()).collect();
        order.sort_by_key(|&i| part[i].place_id);
        let base = given.len();
        args.clear();
        for &i in &order {
            let at = args.len();
            ins.push_args(&part[i], args);
            for (_, col, values) in keys.iter_mut().flatten() {
                if let Arg::Int(v) = args[at + *col] {
                    values.insert(v);
                }
            }
            places.push(part[i].place_id);
            given.push(base + i);
        }
    };
    let mut copy = tx.copy_begin(&table, &ins.cols).await?.ok_or_else(|| crate::StoreError::Internal("COPY 只用于 PostgreSQL".into()))?;
    send(first, &mut args);
    copy.send(&args).await?;
    while let Some(part) = next() {
        if part.is_empty() {
            continue;
        }
        send(part, &mut args);
        copy.send(&args).await?;
    }
    copy.finish().await?;
    if let Some(keys) = keys {
        tx.set_triggers(true).await?;
        let values: Vec<(&crate::ForeignKey, Vec<i64>)> = keys.iter().map(|(k, _, v)| (k, v.iter().copied().collect())).collect();
        tx.check_foreign_keys(&table, &values).await?;
    }
    let ids = tx.copied_ids(&table, places.len()).await?;
    let placed: Vec<(i64, i64)> = ids.into_iter().zip(places).collect();
    crate::audit::append_runs(tx, actor, "create", &table, &crate::audit::runs(&placed), note).await?;
    let mut out = vec![(0, 0); placed.len()];
    for (p, i) in placed.into_iter().zip(given) {
        out[i] = p;
    }
    Ok(out)
}

/// A subject found by what a sheet wrote for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubjectRef {
    pub id: i64,
    pub place_id: i64,
}

/// Resolves many subject texts at once, within scope: persons by ID number; households by
/// household number or by their head's ID number (as `refs::resolve` does one at a time).
/// Texts that name nothing in scope are absent from the map. Other subject kinds are not
/// handled here (`None`): callers resolve those one by one.
pub async fn subjects_by_text(tx: &mut Tx, scope: &Scope, kind: SubjectKind, texts: &[String]) -> Result<Option<HashMap<String, SubjectRef>>> {
    let mut found = HashMap::new();
    if texts.is_empty() {
        return Ok(Some(found));
    }
    // Each distinct normalised text once, with every spelling the sheet used for it.
    let mut by_upper: HashMap<String, Vec<&String>> = HashMap::new();
    let mut by_trim: HashMap<String, Vec<&String>> = HashMap::new();
    for t in texts {
        by_upper.entry(t.trim().to_uppercase()).or_default().push(t);
        by_trim.entry(t.trim().to_string()).or_default().push(t);
    }
    match kind {
        SubjectKind::Person => {
            let keys: Vec<String> = by_upper.keys().cloned().collect();
            for (number, id, place) in lookup(tx, scope, "SELECT id_number, id, place_id FROM persons", "id_number", &keys).await? {
                for t in by_upper.get(&number).into_iter().flatten() {
                    found.insert((*t).clone(), SubjectRef { id, place_id: place });
                }
            }
        }
        SubjectKind::Household => {
            let keys: Vec<String> = by_trim.keys().cloned().collect();
            for (number, id, place) in lookup(tx, scope, "SELECT number, id, place_id FROM households", "number", &keys).await? {
                for t in by_trim.get(&number).into_iter().flatten() {
                    found.insert((*t).clone(), SubjectRef { id, place_id: place });
                }
            }
            let rest: Vec<String> = by_upper.iter().filter(|(_, ts)| ts.iter().any(|t| !found.contains_key(*t))).map(|(k, _)| k.clone()).collect();
            if !rest.is_empty() {
                let base = "SELECT p.id_number, h.id, h.place_id FROM persons p JOIN households h ON h.id = p.household_id";
                for (number, id, place) in lookup(tx, scope, base, "p.id_number", &rest).await? {
                    for t in by_upper.get(&number).into_iter().flatten() {
                        found.entry((*t).clone()).or_insert(SubjectRef { id, place_id: place });
                    }
                }
            }
        }
        _ => return Ok(None),
    }
    Ok(Some(found))
}

/// `base WHERE key_col IN (…)`, in chunks, keeping rows whose place is in scope:
/// (key, id, place).
async fn lookup(tx: &mut Tx, scope: &Scope, base: &str, key_col: &str, keys: &[String]) -> Result<Vec<(String, i64, i64)>> {
    let mut keys: Vec<&String> = keys.iter().collect();
    keys.sort_unstable();
    keys.dedup();
    let in_scope = places_in_scope(tx, scope).await?;
    let mut out = Vec::new();
    for part in keys.chunks(MAX_PARAMS) {
        let args: Vec<Arg> = part.iter().map(|k| Arg::Text((*k).clone())).collect();
        let sql = format!("{base} WHERE {key_col} IN ({})", tx.placeholders(1, part.len()));
        for r in tx.fetch(&sql, &args).await? {
            if in_scope.contains(&r.int(2)) {
                out.push((r.text(0), r.int(1), r.int(2)));
            }
        }
    }
    Ok(out)
}

/// The values a batch gives one natural-key field: a stored record matches one of them, or
/// is empty there when some row left the field blank.
#[derive(Debug, Clone, PartialEq)]
pub struct Narrowing {
    pub key: String,
    pub values: Vec<taizhang_domain::value::Value>,
    pub blank: bool,
}

/// Records of these subjects in scope whose `narrow` fields hold one of the given values or
/// are empty, for matching natural keys in memory. Narrowing by the batch's months (say) keeps
/// the fetch near one record per row however long each subject's history is. The ledger's
/// natural key includes the subject. Voided records hold no key and are left out.
pub async fn records_of_subjects(
    tx: &mut Tx,
    def: &LedgerDef,
    scope: &Scope,
    subject_ids: &[i64],
    narrow: &[Narrowing],
) -> Result<Vec<Record>> {
    let mut ids = subject_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let in_scope = places_in_scope(tx, scope).await?;
    let (extra_sql, extra_args) = narrowing_sql(tx, def, narrow);
    // SQLite would rather walk a whole month through the date index (the time field is often
    // a natural-key field too) than seek each subject's key in the natural-key index: 9 of a
    // re-import's 13 seconds. Every ledger keyed by subject has that index (`ledgers`
    // creates it with the table, and on opening where an older database lacks it).
    // PostgreSQL's planner, which has statistics, chooses well.
    let table = def.table_name();
    let hint = match tx.engine() {
        crate::Engine::Sqlite => format!(" INDEXED BY {table}_natural"),
        crate::Engine::Postgres => String::new(),
    };
    let mut out = Vec::new();
    for part in ids.chunks(MAX_PARAMS) {
        // SQLite's `?` are positional: the narrowing values come first, as in the text.
        let mut args = extra_args.clone();
        args.extend(part.iter().map(|i| Arg::Int(*i)));
        let sql = format!(
            "SELECT {} FROM {table}{hint} WHERE 1 = 1{extra_sql} AND subject_id IN ({}) ORDER BY id",
            select_list(def),
            tx.placeholders(extra_args.len() + 1, part.len())
        );
        out.extend(tx.fetch(&sql, &args).await?.iter().map(|r| from_row(def, r)).filter(|r| in_scope.contains(&r.place_id) && r.voided.is_none()));
    }
    Ok(out)
}

/// ` AND …` conditions that a record's narrowed fields hold one of the values (or are empty
/// where some row left them blank), with their parameters, numbered from 1.
fn narrowing_sql(tx: &Tx, def: &LedgerDef, narrow: &[Narrowing]) -> (String, Vec<Arg>) {
    let mut extra_args = Vec::new();
    let mut extra_sql = String::new();
    for n in narrow {
        let Some(f) = def.field(&n.key) else { continue };
        let col = quote(&n.key);
        let first = extra_args.len() + 1;
        extra_args.extend(n.values.iter().map(|v| to_arg(f.kind, v)));
        let list = tx.placeholders(first, n.values.len());
        // Without blanks the condition is a plain IN, which the natural-key index can seek.
        extra_sql.push_str(&match (n.values.is_empty(), n.blank) {
            (true, _) => format!(" AND {col} IS NULL"),
            (false, false) => format!(" AND {col} IN ({list})"),
            (false, true) => format!(" AND ({col} IS NULL OR {col} IN ({list}))"),
        });
    }
    (extra_sql, extra_args)
}

/// The smallest id a record written from now on can get: every record with a smaller id was
/// there before (ids only grow). An import takes it at its start to tell its own records from
/// those it found.
pub async fn next_id(tx: &mut Tx, def: &LedgerDef) -> Result<i64> {
    Ok(tx.fetch_one(&format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {}", def.table_name()), &[]).await?.int(0))
}

/// Whether any record with an id below `before`, in or out of scope, has one of the values in
/// every narrowed field. When none has, a batch's rows can match only records written since:
/// a batch of next month's payments need not look up each household's history. One probe on
/// the fields' indexes, where fetching by subject seeks once per row.
pub async fn any_before(tx: &mut Tx, def: &LedgerDef, before: i64, narrow: &[Narrowing]) -> Result<bool> {
    // A ledger empty when the import began (the first import of a year's payments, say): no
    // probe. On a table the import itself is filling, the probe would walk the months' index
    // over every record written so far, batch after batch.
    if before <= 1 {
        return Ok(false);
    }
    let (extra_sql, mut args) = narrowing_sql(tx, def, narrow);
    let n = args.len() + 1;
    args.push(Arg::Int(before));
    let id = match tx.engine() {
        crate::Engine::Sqlite => "?".to_string(),
        crate::Engine::Postgres => format!("${n}"),
    };
    let sql = format!("SELECT 1 FROM {} WHERE 1 = 1{extra_sql} AND id < {id} LIMIT 1", def.table_name());
    Ok(tx.fetch_opt(&sql, &args).await?.is_some())
}
