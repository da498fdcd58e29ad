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
        "SELECT id, at, actor, action, entity, entity_id, place_id, before_json, after_json, note FROM audit WHERE ",
    );
    let mut args = vec![scope.arg()];
    sql.push_str(&format!("({} OR (place_id IS NULL AND $1 = '/%'))", scope.condition("place_id", 1)));
    if let Some(e) = &q.entity {
        args.push(e.into());
        sql.push_str(&format!(" AND entity = ${}", args.len()));
    }
    if let Some(id) = q.entity_id {
        args.push(Arg::Int(id));
        sql.push_str(&format!(" AND entity_id = ${}", args.len()));
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
            place_id: r.opt_int(6),
            before: parse(r.opt_text(7)),
            after: parse(r.opt_text(8)),
            note: r.text(9),
        })
        .collect())
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(tx.fetch_one("SELECT COUNT(*) FROM audit", &[]).await?.int(0))
}
