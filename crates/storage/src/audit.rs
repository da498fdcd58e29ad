//! The audit trail (操作日志): appended in the same transaction as the write it records.
//! Nothing in the application edits or deletes it; the schema refuses it too.

use serde::Serialize;
use taizhang_domain::role::Actor;

use crate::backend::Tx;
use crate::error::Result;
use crate::scope::Scope;
use crate::sql::Arg;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    /// The last id of a run of records this entry covers (`entity_id` is the first): records
    /// created together by one batch of an import, in one place. `None`: one entity.
    pub last_entity_id: Option<i64>,
    pub place_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub note: String,
}

pub struct Change<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub place_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub note: &'a str,
}

pub async fn append(tx: &mut Tx, actor: &Actor, c: Change<'_>) -> Result<()> {
    let json = |v: Option<serde_json::Value>| v.map(|v| v.to_string());
    tx.exec(
        "INSERT INTO audit (at, actor, action, entity, entity_id, place_id, before_json, after_json, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            Arg::Time(crate::now()),
            actor.name().into(),
            c.action.into(),
            c.entity.into(),
            c.entity_id.into(),
            c.place_id.into(),
            json(c.before).into(),
            json(c.after).into(),
            c.note.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Records with consecutive ids `first..=last` in one place, created by one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub first: i64,
    pub last: i64,
    pub place_id: i64,
}

/// The most records one run entry may cover. `list` looks for the entry covering an id among
/// entries starting at most this far below it, which keeps that lookup on the index.
pub const MAX_RUN: i64 = 10_000;

/// Splits ids (ascending) and their places into runs of consecutive ids in one place.
pub fn runs(ids_and_places: &[(i64, i64)]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for &(id, place_id) in ids_and_places {
        match out.last_mut() {
            Some(r) if r.place_id == place_id && r.last + 1 == id && id - r.first < MAX_RUN => r.last = id,
            _ => out.push(Run { first: id, last: id, place_id }),
        }
    }
    out
}

/// One entry per run instead of one per record, for bulk imports: who created which records,
/// when, where and from what (`note`). The records' values are not copied into the trail: they
/// are the records themselves until a change, whose entry holds the values before it.
pub async fn append_runs(tx: &mut Tx, actor: &Actor, action: &str, entity: &str, runs: &[Run], note: &str) -> Result<()> {
    const PER_ROW: usize = 8;
    let at = crate::now();
    for part in runs.chunks(500) {
        let mut args = Vec::with_capacity(part.len() * PER_ROW);
        let mut tuples = Vec::with_capacity(part.len());
        for r in part {
            tuples.push(format!("({})", tx.placeholders(args.len() + 1, PER_ROW)));
            args.extend([
                Arg::Time(at),
                actor.name().into(),
                action.into(),
                entity.into(),
                Some(r.first).into(),
                (r.last != r.first).then_some(r.last).into(),
                Some(r.place_id).into(),
                note.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO audit (at, actor, action, entity, entity_id, last_entity_id, place_id, note) VALUES {}",
            tuples.join(", ")
        );
        tx.exec(&sql, &args).await?;
    }
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor: Option<String>,
    pub limit: i64,
}

/// Entries about places in scope, newest first. Entries without a place (users, definitions)
/// are shown only to an unconfined scope.
pub async fn list(tx: &mut Tx, scope: &Scope, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note FROM audit WHERE ",
    );
    let mut args = vec![scope.arg()];
    sql.push_str(&format!("({} OR (place_id IS NULL AND $1 = '/%'))", scope.condition("place_id", 1)));
    if let Some(e) = &q.entity {
        args.push(e.into());
        sql.push_str(&format!(" AND entity = ${}", args.len()));
    }
    if let Some(id) = q.entity_id {
        // An entry about this entity, or a run that covers it: runs start at most MAX_RUN
        // below, so the index on (entity, entity_id) bounds the search.
        args.push(Arg::Int(id));
        let n = args.len();
        args.push(Arg::Int(id.saturating_sub(MAX_RUN)));
        sql.push_str(&format!(
            " AND (entity_id = ${n} OR (entity_id BETWEEN ${} AND ${n} AND last_entity_id >= ${n}))",
            n + 1
        ));
    }
    if let Some(a) = &q.actor {
        args.push(a.into());
        sql.push_str(&format!(" AND actor = ${}", args.len()));
    }
    args.push(Arg::Int(if q.limit > 0 { q.limit } else { 200 }));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", args.len()));
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(tx
        .fetch(&sql, &args)
        .await?
        .into_iter()
        .map(|r| AuditEntry {
            id: r.int(0),
            at: r.text(1),
            actor: r.text(2),
            action: r.text(3),
            entity: r.text(4),
            entity_id: r.opt_int(5),
            last_entity_id: r.opt_int(6),
            place_id: r.opt_int(7),
            before: parse(r.opt_text(8)),
            after: parse(r.opt_text(9)),
            note: r.text(10),
        })
        .collect())
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(tx.fetch_one("SELECT COUNT(*) FROM audit", &[]).await?.int(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_break_at_gaps_places_and_length() {
        let rows = [(1, 7), (2, 7), (3, 8), (4, 8), (6, 8), (7, 7)];
        let got = runs(&rows);
        assert_eq!(
            got,
            vec![
                Run { first: 1, last: 2, place_id: 7 },
                Run { first: 3, last: 4, place_id: 8 },
                Run { first: 6, last: 6, place_id: 8 },
                Run { first: 7, last: 7, place_id: 7 },
            ]
        );
        let long: Vec<(i64, i64)> = (1..=MAX_RUN + 1).map(|i| (i, 1)).collect();
        let got = runs(&long);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].first, got[0].last, got[1].first), (1, MAX_RUN, MAX_RUN + 1));
        assert!(runs(&[]).is_empty());
    }
}
