//! Reads of personal information in the audit trail (查看留痕): who read which records or
//! persons, when, through what and with which filter — one entry per answer that showed them —
//! and the report of who read whose data (PIPL) built from those entries.
//!
//! A read entry is an ordinary audit entry (`action = 'read'`, appended by `audit::append`, so
//! chained and append-only like every other): `entity` is the ledger's table or `persons`,
//! `entity_id` the record when exactly one was read, `place_id` where it was read, `note` what
//! was done ("台账列表（网页）"), and `after` holds `count`, `ids` and `persons` as runs
//! ("3-5,9") and the `filter` as typed (numbers in it masked).

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use taizhang_domain::role::Actor;

use crate::audit::{self, Change};
use crate::backend::Tx;
use crate::error::Result;
use crate::scope::Scope;
use crate::sql::Arg;

/// What one answer showed of one entity (a ledger's records, or persons).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Read {
    /// `ld_<key>` or `persons`.
    pub entity: String,
    /// The records (or persons) shown.
    pub ids: Vec<i64>,
    /// The persons those records are about (subjects and person references).
    pub persons: Vec<i64>,
    /// Where they lie; the entry's place is theirs when they share one, else `scope_place`.
    pub places: Vec<i64>,
    /// The reader's own place, for reads spanning several places.
    pub scope_place: Option<i64>,
    /// The filter or search as the reader gave it (masked before it is written).
    pub filter: String,
    /// What was done: 台账列表（网页）, 导出, 人员详情（接口）…
    pub what: String,
}

/// Ids (any order, repeats allowed) as runs: `1-3,7,9-10`.
pub fn runs_text(ids: &[i64]) -> String {
    let mut v = ids.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end + 1 {
            i += 1;
            end = v[i];
        }
        out.push(if end == start { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    out.join(",")
}

/// Whether runs written by [`runs_text`] contain `id`.
pub fn runs_contain(text: &str, id: i64) -> bool {
    text.split(',').filter(|p| !p.is_empty()).any(|p| match p.split_once('-') {
        Some((a, b)) => a.parse::<i64>().is_ok_and(|a| a <= id) && b.parse::<i64>().is_ok_and(|b| id <= b),
        None => p.parse::<i64>() == Ok(id),
    })
}

/// Appends the read entry of one answer (nothing when it showed nothing).
pub async fn note(tx: &mut Tx, actor: &Actor, r: &Read) -> Result<()> {
    if r.ids.is_empty() {
        return Ok(());
    }
    let mut ids = r.ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let mut places = r.places.clone();
    places.sort_unstable();
    places.dedup();
    let place_id = match places.as_slice() {
        [one] => Some(*one),
        _ => r.scope_place.or(places.first().copied()),
    };
    let filter = taizhang_domain::masking::mask_numbers_in(r.filter.trim());
    let after = json!({
        "count": ids.len(),
        "ids": runs_text(&ids),
        "persons": runs_text(&r.persons),
        "filter": filter,
    });
    let note = if filter.is_empty() {
        format!("{}，{} 条", r.what, ids.len())
    } else {
        format!("{}，{} 条（{filter}）", r.what, ids.len())
    };
    audit::append(
        tx,
        actor,
        Change {
            action: "read",
            entity: &r.entity,
            entity_id: if ids.len() == 1 { Some(ids[0]) } else { None },
            place_id,
            before: None,
            after: Some(after),
            note: &note,
        },
    )
    .await
}

/// The report's filters: whose data (a person, or one record of a ledger), who read it, when.
#[derive(Debug, Clone, Default)]
pub struct ReadQuery {
    /// A person: reads of them in the registry, and of records about them.
    pub person: Option<i64>,
    /// A ledger's table (`ld_<key>`) or `persons`.
    pub entity: Option<String>,
    /// One record of `entity`.
    pub record: Option<i64>,
    pub actor: Option<String>,
    /// Days, inclusive, in the server's local time.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub limit: i64,
}

/// One read, as the report lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReadEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub entity: String,
    pub place_id: Option<i64>,
    pub count: i64,
    pub ids: String,
    pub persons: String,
    pub filter: String,
    pub note: String,
}

pub(crate) fn local_midnight(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    chrono::Local.from_local_datetime(&naive).earliest().map_or_else(|| naive.and_utc(), |t| t.with_timezone(&chrono::Utc))
}

/// Read entries visible in the scope (`audit::visible`), newest first, filtered as asked. The
/// person and record filters look into each entry's runs, so entries are read in pages until
/// `limit` match or none are left.
pub async fn list(tx: &mut Tx, scope: &Scope, q: &ReadQuery) -> Result<Vec<ReadEntry>> {
    let limit = if q.limit > 0 { q.limit } else { 200 };
    let mut args = vec![scope.arg()];
    let mut sql = format!(
        "SELECT id, at, actor, entity, place_id, after_json, note FROM audit WHERE action = 'read' AND {}",
        audit::visible(scope, 1)
    );
    if let Some(e) = &q.entity {
        args.push(e.into());
        sql.push_str(&format!(" AND entity = ${}", args.len()));
    }
    if let Some(a) = &q.actor {
        args.push(a.into());
        sql.push_str(&format!(" AND actor = ${}", args.len()));
    }
    if let Some(d) = q.from {
        args.push(Arg::Time(local_midnight(d)));
        sql.push_str(&format!(" AND at >= ${}", args.len()));
    }
    if let Some(d) = q.to.and_then(|d| d.succ_opt()) {
        args.push(Arg::Time(local_midnight(d)));
        sql.push_str(&format!(" AND at < ${}", args.len()));
    }
    let page: i64 = 1000;
    let mut before: Option<i64> = None;
    let mut out = Vec::new();
    loop {
        let mut page_sql = sql.clone();
        let mut page_args = args.clone();
        if let Some(b) = before {
            page_args.push(Arg::Int(b));
            page_sql.push_str(&format!(" AND id < ${}", page_args.len()));
        }
        page_args.push(Arg::Int(page));
        page_sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", page_args.len()));
        let rows = tx.fetch(&page_sql, &page_args).await?;
        let n = rows.len() as i64;
        for r in &rows {
            before = Some(r.int(0));
            let after: serde_json::Value = r.opt_text(5).and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
            let text = |k: &str| after.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let entry = ReadEntry {
                id: r.int(0),
                at: r.text(1),
                actor: r.text(2),
                entity: r.text(3),
                place_id: r.opt_int(4),
                count: after.get("count").and_then(serde_json::Value::as_i64).unwrap_or(0),
                ids: text("ids"),
                persons: text("persons"),
                filter: text("filter"),
                note: r.text(6),
            };
            if let Some(id) = q.record {
                if !runs_contain(&entry.ids, id) {
                    continue;
                }
            }
            if let Some(p) = q.person {
                let whose = runs_contain(&entry.persons, p) || (entry.entity == "persons" && runs_contain(&entry.ids, p));
                if !whose {
                    continue;
                }
            }
            out.push(entry);
            if out.len() as i64 >= limit {
                return Ok(out);
            }
        }
        if n < page {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_round_trip() {
        assert_eq!(runs_text(&[9, 3, 4, 5, 3, 11, 12]), "3-5,9,11-12");
        assert_eq!(runs_text(&[]), "");
        let t = runs_text(&[1, 2, 3, 7, 20, 21]);
        for id in [1, 2, 3, 7, 20, 21] {
            assert!(runs_contain(&t, id), "{id} in {t}");
        }
        for id in [0, 4, 6, 8, 19, 22] {
            assert!(!runs_contain(&t, id), "{id} not in {t}");
        }
    }
}
