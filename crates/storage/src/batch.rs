//! Writing and looking up many records with few statements, for imports of hundreds of
//! thousands of rows. The rules are those of `records::create`; what differs is that the
//! caller resolves subjects for a whole batch in one query (`subjects_by_text`) and the rows
//! go in with multi-row `INSERT`s, their audit entries too.

use std::collections::{HashMap, HashSet};

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
    let values: Values = values.into_iter().filter(|(_, v)| !v.is_null()).collect();
    validate_record(def, &values, today)?;
    Ok(Prepared { place_id, subject_id, concerns_year, values })
}

/// Inserts prepared records with multi-row `INSERT`s and audits each, in the caller's
/// transaction. Returns the stored records in input order.
pub async fn insert(tx: &mut Tx, def: &LedgerDef, actor: &Actor, rows: Vec<Prepared>, today: NaiveDate) -> Result<Vec<Record>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let state = def.workflow.as_ref().map(|w| w.initial.clone());
    let now = crate::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut cols: Vec<String> = ["place_id", "subject_id", "state", "state_since", "concerns_year", "created_at", "updated_at", "created_by", "updated_by"]
        .into_iter()
        .map(String::from)
        .collect();
    cols.extend(def.fields.iter().map(|f| quote(&f.key)));
    let per_row = cols.len();
    let chunk = (MAX_PARAMS / per_row).max(1);
    let mut out = Vec::with_capacity(rows.len());
    let mut id_range: Option<(i64, i64)> = None;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let part: Vec<Prepared> = rows.by_ref().take(chunk).collect();
        let mut args = Vec::with_capacity(part.len() * per_row);
        let mut tuples = Vec::with_capacity(part.len());
        for r in &part {
            let base = args.len();
            args.push(Arg::Int(r.place_id));
            args.push(r.subject_id.into());
            args.push(state.clone().into());
            args.push(if state.is_some() { Arg::Date(today) } else { Arg::NullDate });
            args.push(r.concerns_year.map(i64::from).into());
            args.push(Arg::Text(now.clone()));
            args.push(Arg::Text(now.clone()));
            args.push(actor.name().into());
            args.push(actor.name().into());
            for f in &def.fields {
                args.push(to_arg(f.kind, r.values.get(&f.key).unwrap_or(&taizhang_domain::value::Value::Null)));
            }
            tuples.push(format!("({})", tx.placeholders(base + 1, per_row)));
        }
        let table = def.table_name();
        let sql = format!("INSERT INTO {table} ({}) VALUES {}", cols.join(", "), tuples.join(", "));
        // Ids come from a rowid or sequence that grows in VALUES order, so ascending ids line
        // up with the rows as given.
        let ids = tx.insert_many(&sql, &args, part.len()).await?;
        id_range = Some(id_range.map_or((ids[0], ids[ids.len() - 1]), |(lo, _)| (lo, ids[ids.len() - 1])));
        let records: Vec<Record> = part
            .into_iter()
            .zip(ids)
            .map(|(p, id)| Record {
                id,
                place_id: p.place_id,
                subject_id: p.subject_id,
                state: state.clone(),
                state_since: state.as_ref().map(|_| today),
                concerns_year: p.concerns_year,
                row_version: 1,
                values: p.values,
                created_by: actor.name().to_string(),
                updated_by: actor.name().to_string(),
                created_at: now.clone(),
                updated_at: now.clone(),
            })
            .collect();
        audit_created(tx, def, actor, &records).await?;
        out.extend(records);
    }
    if let Some((lo, hi)) = id_range {
        tx.check_new_ids(&def.table_name(), lo, hi, out.len()).await?;
    }
    Ok(out)
}

/// One audit entry per created record, as `records::create` writes, in multi-row statements.
async fn audit_created(tx: &mut Tx, def: &LedgerDef, actor: &Actor, records: &[Record]) -> Result<()> {
    const PER_ROW: usize = 9;
    let entity = def.table_name();
    let at = crate::now();
    for part in records.chunks(MAX_PARAMS / PER_ROW) {
        let mut args = Vec::with_capacity(part.len() * PER_ROW);
        let mut tuples = Vec::with_capacity(part.len());
        for r in part {
            let base = args.len();
            args.push(Arg::Time(at));
            args.push(actor.name().into());
            args.push("create".into());
            args.push(entity.as_str().into());
            args.push(Some(r.id).into());
            args.push(Some(r.place_id).into());
            args.push(Arg::NullText);
            args.push(Arg::Text(audit_json(r)?));
            args.push("".into());
            tuples.push(format!("({})", tx.placeholders(base + 1, PER_ROW)));
        }
        let sql = format!(
            "INSERT INTO audit (at, actor, action, entity, entity_id, place_id, before_json, after_json, note) VALUES {}",
            tuples.join(", ")
        );
        tx.exec(&sql, &args).await?;
    }
    Ok(())
}

/// A record as `record_json` writes it into the audit table, byte for byte (its keys in
/// order, as a `serde_json::Value` object sorts them), without building the `Value` tree
/// first: that took a fifth of the importing thread's time.
#[derive(serde::Serialize)]
struct AuditJson<'a> {
    concerns_year: Option<i32>,
    created_at: &'a str,
    created_by: &'a str,
    id: i64,
    place_id: i64,
    row_version: i64,
    state: Option<&'a str>,
    state_since: Option<NaiveDate>,
    subject_id: Option<i64>,
    updated_at: &'a str,
    updated_by: &'a str,
    values: &'a Values,
}

fn audit_json(r: &Record) -> Result<String> {
    let j = AuditJson {
        concerns_year: r.concerns_year,
        created_at: &r.created_at,
        created_by: &r.created_by,
        id: r.id,
        place_id: r.place_id,
        row_version: r.row_version,
        state: r.state.as_deref(),
        state_since: r.state_since,
        subject_id: r.subject_id,
        updated_at: &r.updated_at,
        updated_by: &r.updated_by,
        values: &r.values,
    };
    serde_json::to_string(&j).map_err(|e| crate::error::StoreError::Internal(e.to_string()))
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
/// the fetch near one record per row however long each subject's history is.
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
    let mut out = Vec::new();
    for part in ids.chunks(MAX_PARAMS) {
        // SQLite's `?` are positional: the narrowing values come first, as in the text.
        let mut args = extra_args.clone();
        args.extend(part.iter().map(|i| Arg::Int(*i)));
        let sql = format!(
            "SELECT {} FROM {} WHERE 1 = 1{extra_sql} AND subject_id IN ({}) ORDER BY id",
            select_list(def),
            def.table_name(),
            tx.placeholders(extra_args.len() + 1, part.len())
        );
        out.extend(tx.fetch(&sql, &args).await?.iter().map(|r| from_row(def, r)).filter(|r| in_scope.contains(&r.place_id)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::record_json;
    use taizhang_domain::value::Value;

    /// The audit text of a batch insert is the one `records::create` writes.
    #[test]
    fn audit_json_is_record_json() {
        let mut values = Values::new();
        values.insert("amount".into(), Value::Int(125_000));
        values.insert("pay_month".into(), Value::Text("2023-07 \"引号\"\n".into()));
        values.insert("paid_on".into(), Value::Date(NaiveDate::from_ymd_opt(2023, 7, 10).expect("date")));
        values.insert("flag".into(), Value::Bool(true));
        values.insert("tags".into(), Value::List(vec!["甲".into(), "乙".into()]));
        values.insert("empty".into(), Value::Null);
        let full = Record {
            id: 42,
            place_id: 7,
            subject_id: Some(9),
            state: Some("登记".into()),
            state_since: NaiveDate::from_ymd_opt(2023, 7, 1),
            concerns_year: Some(2023),
            row_version: 1,
            values,
            created_by: "张三".into(),
            updated_by: "张三".into(),
            created_at: "2023-07-01T08:00:00.000Z".into(),
            updated_at: "2023-07-01T08:00:00.000Z".into(),
        };
        let bare = Record { subject_id: None, state: None, state_since: None, concerns_year: None, values: Values::new(), ..full.clone() };
        for r in [full, bare] {
            assert_eq!(audit_json(&r).expect("json"), record_json(&r).to_string());
        }
    }
}
