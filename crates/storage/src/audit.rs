//! The audit trail (操作日志): appended in the same transaction as the write it records.
//! Nothing in the application edits or deletes it; the schema refuses it too.
//!
//! **The hash chain.** Every entry carries `hash` = SHA-256 of the previous entry's hash and
//! the entry's own fields (`chain_hash`), so that changing, removing or inserting an entry
//! behind the program's back breaks the chain at that entry, which [`verify`] finds
//! (`taizhang audit verify`). Appends go through [`append_entries`] only: the chain's head
//! (`audit_head`: the last id and hash) is read in the appending transaction, the new entries
//! get the next ids, are hashed and the head moved, so the chain is one line whatever runs at
//! the same time — on SQLite writers are serialised by `BEGIN IMMEDIATE`, and entries are
//! chained as they are appended; on PostgreSQL they wait in the connection's own table until
//! the commit, which chains them with the head row locked (`SELECT … FOR UPDATE`) only from
//! then to the end of the commit.
//!
//! **Retention.** Entries are kept for good: nothing in the program deletes one, the schema
//! refuses it, and there is no purge (the 等保 minimum is 180 days; see docs/audit.md).

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use taizhang_domain::role::Actor;

use crate::backend::{Db, Engine, Tx};
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::sql::{Arg, Row};

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
    let entry = NewEntry {
        at: crate::now(),
        actor: actor.name().to_string(),
        action: c.action.to_string(),
        entity: c.entity.to_string(),
        entity_id: c.entity_id,
        last_entity_id: None,
        place_id: c.place_id,
        before_json: json(c.before),
        after_json: json(c.after),
        note: c.note.to_string(),
    };
    append_entries(tx, vec![entry]).await
}

/// An entry to append, as stored (the JSON of `before` and `after` already written out).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub last_entity_id: Option<i64>,
    pub place_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub note: String,
}

/// The hash "before" the first entry.
/// Audit actions that record no change to the data: a read of personal data and signing in or
/// out. [`DATA_VERSION`] passes over them, so that what is computed from the data (the
/// dashboard, the data checks' findings) is not thrown away each time someone signs in or
/// opens a person's page.
/// The partial index `audit_writes` (migrations) repeats this list in its condition, so that
/// the data version is read from it: change both together.
pub const NOT_WRITES: [&str; 4] = ["read", "sign_in", "sign_out", "sign_in_failed"];

/// The data version as a scalar subquery: the id of the newest audit entry that records a
/// change (every write appends one in its own transaction), 0 before any. The primary key read
/// backwards stops at the first such entry. The actions are fixed ASCII words, written inline.
pub fn data_version_sql() -> String {
    let skipped: Vec<String> = NOT_WRITES.iter().map(|a| format!("'{a}'")).collect();
    format!("(SELECT COALESCE((SELECT id FROM audit WHERE action NOT IN ({}) ORDER BY id DESC LIMIT 1), 0))", skipped.join(", "))
}

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an entry the chain covers, as both engines give them back: the time as
/// RFC 3339 with milliseconds (appends store times at that precision, so what is read back
/// is exactly what was hashed), the JSON as the stored text.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainFields {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub last_entity_id: Option<i64>,
    pub place_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub note: String,
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// SHA-256 (lower-case hex) of the previous entry's hash, a line feed and the entry's fields
/// as a JSON array (id, time, actor, action, entity, entity id, last entity id, place,
/// before, after, note): one unambiguous text for one entry.
pub fn chain_hash(prev: &str, f: &ChainFields) -> String {
    let canonical = serde_json::json!([
        f.id,
        f.at,
        f.actor,
        f.action,
        f.entity,
        f.entity_id,
        f.last_entity_id,
        f.place_id,
        f.before_json,
        f.after_json,
        f.note
    ])
    .to_string();
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The chain's head (last id, last hash), held for the rest of the transaction. PostgreSQL:
/// `FOR UPDATE` makes a concurrent committer wait here until this transaction ends, then read
/// the head it left. SQLite: the transaction already holds the database's write lock
/// (`BEGIN IMMEDIATE`; a deferred one takes it at its first write, and fails rather than
/// write from a head that has moved since it read it).
async fn lock_head(tx: &mut Tx) -> Result<(i64, String)> {
    let sql = match tx.engine() {
        Engine::Sqlite => "SELECT last_id, last_hash FROM audit_head WHERE id = 1",
        Engine::Postgres => "SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    let r = tx
        .fetch_opt(sql, &[])
        .await?
        .ok_or_else(|| StoreError::Internal("操作日志的链头（audit_head）缺失".into()))?;
    Ok((r.int(0), r.text(1)))
}

/// PostgreSQL: each connection's table of the audit entries its open transaction has
/// appended, created when the connection is made (`Db::connect`). They join the chain when
/// the transaction commits (`flush`, from `Tx::commit`), so the chain's head is locked only
/// for the moment of the commit: an import that runs for a minute, or a dry run that never
/// commits, does not hold up everyone else's writes (a sign-in among them), as locking the
/// head at the first entry would. A rollback, to a savepoint too, takes the entries with it.
pub(crate) const PG_PENDING_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS audit_pending (
    seq BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id BIGINT,
    last_entity_id BIGINT,
    place_id BIGINT,
    before_json TEXT,
    after_json TEXT,
    note TEXT NOT NULL
) ON COMMIT DELETE ROWS";

/// Appends entries to the trail, in order, in the caller's transaction. SQLite: at once to
/// the chain (`chain_entries`), the transaction holding the write lock anyway. PostgreSQL:
/// to the connection's pending table, chained by `flush` at commit. The one way anything
/// is written to the audit table.
pub async fn append_entries(tx: &mut Tx, entries: Vec<NewEntry>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    match tx.engine() {
        Engine::Sqlite => chain_entries(tx, entries).await,
        Engine::Postgres => {
            const PER_ROW: usize = 10;
            let mut entries = entries.into_iter().peekable();
            while entries.peek().is_some() {
                let mut args = Vec::new();
                let mut tuples = Vec::new();
                for e in entries.by_ref().take(500) {
                    tuples.push(format!("({})", tx.placeholders(args.len() + 1, PER_ROW)));
                    args.extend([
                        Arg::Time(e.at.trunc_subsecs(3)),
                        Arg::Text(e.actor),
                        Arg::Text(e.action),
                        Arg::Text(e.entity),
                        e.entity_id.into(),
                        e.last_entity_id.into(),
                        e.place_id.into(),
                        e.before_json.into(),
                        e.after_json.into(),
                        Arg::Text(e.note),
                    ]);
                }
                let sql = format!(
                    "INSERT INTO pg_temp.audit_pending (at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note) VALUES {}",
                    tuples.join(", ")
                );
                tx.exec(&sql, &args).await?;
            }
            Ok(())
        }
    }
}

/// The audit trail as a transaction sees it, its own entries not yet committed included, as a
/// table expression named `audit`: on PostgreSQL those wait in the connection's pending table
/// until the commit (without an id, so they sort last by id). For the few reads that look at
/// what the same transaction has just written.
pub fn trail(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "audit",
        Engine::Postgres => {
            "(SELECT id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note FROM audit \
             UNION ALL SELECT NULL, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note \
             FROM pg_temp.audit_pending) AS audit"
        }
    }
}

/// PostgreSQL, just before a commit: the transaction's pending entries, in the order they
/// were appended, join the chain (the head locked from here to the commit).
pub(crate) async fn flush(tx: &mut Tx) -> Result<()> {
    let mut after = 0i64;
    loop {
        let rows = tx
            .fetch(
                "SELECT seq, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note \
                 FROM pg_temp.audit_pending WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[Arg::Int(after), Arg::Int(PAGE)],
            )
            .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.int(0);
        let entries = rows
            .iter()
            .map(|r| {
                let at = DateTime::parse_from_rfc3339(&r.text(1))
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| StoreError::Internal(format!("操作日志时间无法解析：{e}")))?;
                Ok(NewEntry {
                    at,
                    actor: r.text(2),
                    action: r.text(3),
                    entity: r.text(4),
                    entity_id: r.opt_int(5),
                    last_entity_id: r.opt_int(6),
                    place_id: r.opt_int(7),
                    before_json: r.opt_text(8),
                    after_json: r.opt_text(9),
                    note: r.text(10),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        chain_entries(tx, entries).await?;
        if rows.len() < PAGE as usize {
            return Ok(());
        }
    }
}

/// Writes entries into the chain: the next ids after the head, each hashed onto the one
/// before, and the head moved to the last.
async fn chain_entries(tx: &mut Tx, entries: Vec<NewEntry>) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    const PER_ROW: usize = 12;
    let (mut last_id, mut last_hash) = lock_head(tx).await?;
    let mut entries = entries.into_iter().peekable();
    while entries.peek().is_some() {
        let mut args = Vec::new();
        let mut tuples = Vec::new();
        for e in entries.by_ref().take(400) {
            // Stored at the precision both engines keep and give back alike.
            let at = e.at.trunc_subsecs(3);
            let f = ChainFields {
                id: last_id + 1,
                at: time_text(at),
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                entity_id: e.entity_id,
                last_entity_id: e.last_entity_id,
                place_id: e.place_id,
                before_json: e.before_json,
                after_json: e.after_json,
                note: e.note,
            };
            let hash = chain_hash(&last_hash, &f);
            tuples.push(format!("({})", tx.placeholders(args.len() + 1, PER_ROW)));
            args.extend([
                Arg::Int(f.id),
                Arg::Time(at),
                Arg::Text(f.actor),
                Arg::Text(f.action),
                Arg::Text(f.entity),
                f.entity_id.into(),
                f.last_entity_id.into(),
                f.place_id.into(),
                f.before_json.into(),
                f.after_json.into(),
                Arg::Text(f.note),
                Arg::Text(hash.clone()),
            ]);
            last_id = f.id;
            last_hash = hash;
        }
        let sql = format!(
            "INSERT INTO audit (id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note, hash) VALUES {}",
            tuples.join(", ")
        );
        tx.exec(&sql, &args).await?;
    }
    tx.exec("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1", &[Arg::Int(last_id), Arg::Text(last_hash)]).await?;
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
    let at = crate::now();
    let entries = runs
        .iter()
        .map(|r| NewEntry {
            at,
            actor: actor.name().to_string(),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id: Some(r.first),
            last_entity_id: (r.last != r.first).then_some(r.last),
            place_id: Some(r.place_id),
            before_json: None,
            after_json: None,
            note: note.to_string(),
        })
        .collect();
    append_entries(tx, entries).await
}

#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor: Option<String>,
    pub limit: i64,
}

/// Entities shared by every place: their entries concern every scope under the place they were
/// made at (a built-in definition changed by the county, a setting).
pub const SHARED_ENTITIES: &[&str] = &["ledger_defs", "settings"];

/// The SQL condition that an entry is visible in a scope whose [`Scope::arg`] is parameter
/// `$n`: its place lies in the scope; an entry without a place only to an unconfined scope; an
/// entry about something shared by every place (definitions, settings) also to every scope
/// below the place it was made at (or to every scope when it has none).
pub fn visible(scope: &Scope, n: usize) -> String {
    let shared = SHARED_ENTITIES.iter().map(|e| format!("'{e}'")).collect::<Vec<_>>().join(", ");
    format!(
        "({} OR (place_id IS NULL AND ${n} = '/%') OR (entity IN ({shared}) AND (place_id IS NULL OR ${n} LIKE ((SELECT path FROM places WHERE places.id = audit.place_id) || '%'))))",
        scope.condition("place_id", n)
    )
}

/// Entries visible in the scope ([`visible`]), newest first.
pub async fn list(tx: &mut Tx, scope: &Scope, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    let mut sql = String::from(
        "SELECT id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note FROM audit WHERE ",
    );
    let mut args = vec![scope.arg()];
    sql.push_str(&visible(scope, 1));
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
    Ok(tx.fetch(&sql, &args).await?.iter().map(entry_of).collect())
}

/// An entry from a row of `id, at, actor, action, entity, entity_id, last_entity_id,
/// place_id, before_json, after_json, note`.
fn entry_of(r: &Row) -> AuditEntry {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    AuditEntry {
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
    }
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(tx.fetch_one("SELECT COUNT(*) FROM audit", &[]).await?.int(0))
}

/// The newest entry's id (0 when there is none): taken before an import, so that what the
/// import wrote can be found after it ([`import_entries`]).
pub async fn last_id(tx: &mut Tx) -> Result<i64> {
    Ok(tx.fetch_one("SELECT COALESCE(MAX(id), 0) FROM audit", &[]).await?.int(0))
}

/// The ids of the first and last entries `actor` wrote after entry `after` — read just after
/// an import's commit, the entries of that import — or `None` when there are none. An
/// import's transaction appends its entries holding the audit's head (SQLite's write lock,
/// PostgreSQL's row lock on `audit_head`), so no other writer's entry falls between the two.
pub async fn import_entries(tx: &mut Tx, actor: &str, after: i64) -> Result<Option<(i64, i64)>> {
    let r = tx
        .fetch_one(
            "SELECT MIN(id), MAX(id) FROM audit WHERE id > $1 AND actor = $2",
            &[Arg::Int(after), Arg::Text(actor.to_string())],
        )
        .await?;
    Ok(r.opt_int(0).zip(r.opt_int(1)))
}

const CHAIN_COLUMNS: &str =
    "id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note, hash";

fn chain_fields(r: &Row) -> ChainFields {
    ChainFields {
        id: r.int(0),
        at: r.text(1),
        actor: r.text(2),
        action: r.text(3),
        entity: r.text(4),
        entity_id: r.opt_int(5),
        last_entity_id: r.opt_int(6),
        place_id: r.opt_int(7),
        before_json: r.opt_text(8),
        after_json: r.opt_text(9),
        note: r.text(10),
    }
}

/// Entries read at a time by `seal` and `verify`.
const PAGE: i64 = 5_000;

/// Chains the entries written before the chain existed (ids up to the head's `legacy_upto`,
/// set by the migration that added it), once, in one transaction: their hashes are filled
/// in (the only update the audit table ever gets: the refusing trigger is lifted for it and
/// put back in the same transaction) and the head moved to the last of them. Run by
/// `Db::migrate`; does nothing when they are chained already. Returns how many it chained.
pub async fn seal(db: &Db) -> Result<u64> {
    // Looked at first without the write lock: opening a database must not wait for a writer.
    let mut read = db.read().await?;
    let pending = read.fetch_one("SELECT last_id < legacy_upto FROM audit_head WHERE id = 1", &[]).await?.bool(0);
    drop(read);
    if !pending {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    let (mut last_id, mut last_hash) = lock_head(&mut tx).await?;
    let upto = tx.fetch_one("SELECT legacy_upto FROM audit_head WHERE id = 1", &[]).await?.int(0);
    if last_id >= upto {
        return Ok(0);
    }
    // Engine-specific: how a trigger is lifted inside a transaction.
    let (lift, restore) = match tx.engine() {
        Engine::Sqlite => (
            "DROP TRIGGER audit_no_update",
            "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, '审计记录只能追加，不能修改'); END;",
        ),
        Engine::Postgres => ("ALTER TABLE audit DISABLE TRIGGER audit_no_change", "ALTER TABLE audit ENABLE TRIGGER audit_no_change"),
    };
    tx.exec_script(lift).await?;
    let mut sealed = 0u64;
    loop {
        let sql = format!("SELECT {CHAIN_COLUMNS} FROM audit WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3");
        let rows = tx.fetch(&sql, &[Arg::Int(last_id), Arg::Int(upto), Arg::Int(PAGE)]).await?;
        if rows.is_empty() {
            break;
        }
        for part in rows.chunks(500) {
            let mut args = Vec::with_capacity(part.len() * 2);
            let mut tuples = Vec::with_capacity(part.len());
            for r in part {
                let f = chain_fields(r);
                let hash = chain_hash(&last_hash, &f);
                tuples.push(format!("({})", tx.placeholders(args.len() + 1, 2)));
                args.extend([Arg::Int(f.id), Arg::Text(hash.clone())]);
                last_id = f.id;
                last_hash = hash;
            }
            // `VALUES` names its columns column1, column2 on both engines.
            let sql = format!("UPDATE audit SET hash = v.column2 FROM (VALUES {}) AS v WHERE audit.id = v.column1", tuples.join(", "));
            tx.exec(&sql, &args).await?;
            sealed += part.len() as u64;
        }
    }
    tx.exec_script(restore).await?;
    tx.exec("UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1", &[Arg::Int(upto.max(last_id)), Arg::Text(last_hash)]).await?;
    tx.commit().await?;
    Ok(sealed)
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChainCheck {
    /// Entries whose hash was checked (up to the first break).
    pub checked: i64,
    /// The head: the last entry's id and hash, as `audit_head` holds them.
    pub head_id: i64,
    pub head_hash: String,
    /// The time of the oldest entry (what retention has kept).
    pub oldest: Option<String>,
    /// The first place where the chain breaks, `None` when it holds.
    pub broken: Option<ChainBreak>,
}

/// Where the chain breaks, and what that means, in Chinese.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChainBreak {
    /// The entry at which the break shows (for entries missing at the end: the head's id).
    pub id: i64,
    pub reason: String,
}

impl ChainCheck {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

fn describe(f: &ChainFields) -> String {
    format!("{}，{}，{} {}{}", f.at, f.actor, f.action, f.entity, f.entity_id.map(|i| format!(" #{i}")).unwrap_or_default())
}

/// Recomputes the chain from the first entry to the head and reports the first break: an
/// entry changed (its fields or its hash), entries removed (a gap: the next entry was
/// hashed onto one that is gone; or the last ones, which the head still names), entries
/// added behind the program's back (no hash, or after the head).
pub async fn verify(tx: &mut Tx) -> Result<ChainCheck> {
    let head = tx.fetch_one("SELECT last_id, last_hash, legacy_upto FROM audit_head WHERE id = 1", &[]).await?;
    let (head_id, head_hash, legacy_upto) = (head.int(0), head.text(1), head.int(2));
    let mut check = ChainCheck { checked: 0, head_id, head_hash: head_hash.clone(), oldest: None, broken: None };
    let broken = |id: i64, reason: String| Some(ChainBreak { id, reason });
    if head_id < legacy_upto {
        check.broken = broken(head_id + 1, format!("第 {legacy_upto} 条及以前的操作日志尚未入链：请用本程序打开一次数据库（打开时自动入链）"));
        return Ok(check);
    }
    let (mut prev_id, mut prev_hash) = (0i64, GENESIS.to_string());
    'pages: loop {
        let sql = format!("SELECT {CHAIN_COLUMNS} FROM audit WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3");
        let rows = tx.fetch(&sql, &[Arg::Int(prev_id), Arg::Int(head_id), Arg::Int(PAGE)]).await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let f = chain_fields(r);
            if check.oldest.is_none() {
                check.oldest = Some(f.at.clone());
            }
            let Some(stored) = r.opt_text(11) else {
                check.broken = broken(f.id, format!("第 {} 条（{}）没有哈希，不在链上：它是绕过本程序写入的", f.id, describe(&f)));
                break 'pages;
            };
            if chain_hash(&prev_hash, &f) != stored {
                // Entries written since the chain began have consecutive ids; a gap there
                // means entries were removed. (Older ones on PostgreSQL may have gaps left by
                // rolled-back transactions, chained as they were.)
                let gap = f.id > prev_id + 1 && f.id > legacy_upto;
                let reason = if gap {
                    let (a, b) = (prev_id + 1, f.id - 1);
                    let which = if a == b { format!("第 {a} 条") } else { format!("第 {a}–{b} 条（共 {} 条）", b - a + 1) };
                    format!("{which}被删除：第 {} 条（{}）之前的记录不见了，哈希链在此断开", f.id, describe(&f))
                } else {
                    format!("第 {} 条（{}）与哈希链不符：这一条被修改过，或它前面的记录被删除", f.id, describe(&f))
                };
                check.broken = broken(f.id, reason);
                break 'pages;
            }
            check.checked += 1;
            prev_id = f.id;
            prev_hash = stored;
        }
    }
    if check.broken.is_none() && prev_id != head_id {
        let which = if prev_id + 1 == head_id { format!("第 {head_id} 条") } else { format!("第 {}–{head_id} 条（共 {} 条）", prev_id + 1, head_id - prev_id) };
        check.broken = broken(head_id, format!("最后的{which}被删除：链头记着第 {head_id} 条，日志只到第 {prev_id} 条"));
    } else if check.broken.is_none() && prev_hash != head_hash {
        check.broken = broken(head_id, format!("第 {head_id} 条的哈希与链头记下的不符：最后一条或链头被改动过"));
    }
    if check.broken.is_none() {
        let after = tx.fetch_one("SELECT COUNT(*), MIN(id) FROM audit WHERE id > (SELECT last_id FROM audit_head WHERE id = 1)", &[]).await?;
        if after.int(0) > 0 {
            check.broken = broken(after.int(1), format!("第 {} 条起有 {} 条操作日志在链头之后，不在链上：它们是绕过本程序写入的", after.int(1), after.int(0)));
        }
    }
    Ok(check)
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

/// The audit page's filters: days (inclusive, on the entry's time), user, entity (a table),
/// action; a page of `limit` entries after skipping `offset`.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub action: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Entries visible in the scope ([`visible`]) that the filter selects, newest first, one page,
/// with the number of all that it selects.
pub async fn search(tx: &mut Tx, scope: &Scope, f: &AuditFilter) -> Result<(Vec<AuditEntry>, i64)> {
    let mut cond = visible(scope, 1);
    let mut args = vec![scope.arg()];
    // Days are the office's local days, as the report of reads takes them.
    if let Some(d) = f.from {
        args.push(Arg::Time(crate::reads::local_midnight(d)));
        cond.push_str(&format!(" AND at >= ${}", args.len()));
    }
    if let Some(d) = f.to.and_then(|d| d.succ_opt()) {
        args.push(Arg::Time(crate::reads::local_midnight(d)));
        cond.push_str(&format!(" AND at < ${}", args.len()));
    }
    for (col, v) in [("actor", &f.actor), ("entity", &f.entity), ("action", &f.action)] {
        if let Some(v) = v {
            args.push(v.into());
            cond.push_str(&format!(" AND {col} = ${}", args.len()));
        }
    }
    let total = tx.fetch_one(&format!("SELECT COUNT(*) FROM audit WHERE {cond}"), &args).await?.int(0);
    let n = args.len();
    args.push(Arg::Int(if f.limit > 0 { f.limit } else { 50 }));
    args.push(Arg::Int(f.offset.max(0)));
    let sql = format!(
        "SELECT id, at, actor, action, entity, entity_id, last_entity_id, place_id, before_json, after_json, note FROM audit WHERE {cond} ORDER BY id DESC LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let rows = tx.fetch(&sql, &args).await?;
    Ok((
        rows.iter()
            .map(entry_of)
            .collect(),
        total,
    ))
}

/// The distinct actions and users of the entries visible in the scope, for the filter's lists.
pub async fn distinct(tx: &mut Tx, scope: &Scope, column: &str) -> Result<Vec<String>> {
    let column = match column {
        "action" => "action",
        _ => "actor",
    };
    let sql = format!("SELECT DISTINCT {column} FROM audit WHERE {} ORDER BY {column}", visible(scope, 1));
    Ok(tx.fetch(&sql, &[scope.arg()]).await?.into_iter().map(|r| r.text(0)).collect())
}
