//! Roll-up figures kept between runs, and used only while nothing behind them has changed.
//!
//! On SQLite a county roll-up computed from scratch reads every record of every ledger (4.7 M
//! in the demo county), several times slower than the goal. But a county's records change a
//! few towns at a time: the roll-up stores each ledger's figures per place of the level, with
//! the change counts (`storage::changes`) of that place's records at the time, and on the next
//! run recomputes only the places whose counts have moved since — exactly, by the same scan,
//! limited to those places. A figure is never used unless every write that could touch it is
//! accounted for:
//!
//! - the fingerprint of a (ledger, place) has three parts, compared each on its own: the sum
//!   of the change counts of the ledger's records in the places under it, the count of moves
//!   and removals in the place tree (a new place holds no records), and for a person ledger
//!   counting households the count of household moves. While the tree is unchanged the places
//!   under a group are too, and counts only grow, so the fingerprint is unchanged exactly when
//!   none of these writes happened;
//! - the figures are stored with a digest of the ledger's and the indicators' definitions,
//!   each indicator's own query, and [`STORE_VERSION`], under a context naming the level,
//!   scope, period and as-of date;
//! - the counts are read in the same snapshot as the places, before any record is read, so a
//!   figure is never stored with counts newer than the records it came from;
//! - a ledger whose table lacks any of its counting triggers is always computed afresh, and
//!   when its triggers are created again its stored figures are deleted
//!   (`storage::changes::ensure_counted`).
//!
//! PostgreSQL keeps nothing: its roll-up meets the goal computed afresh.

use std::collections::{BTreeMap, HashMap, HashSet};

use sha2::{Digest, Sha256};
use taizhang_domain::ledger::{LedgerDef, SubjectKind};
use taizhang_domain::place::PlaceLevel;
use taizhang_storage::{changes, Arg, Db, Engine, Tx};

use crate::error::Result;
use crate::eval::{self, Context, GroupedSql};
use crate::indicator::{IndicatorDef, Measure};

/// Raised whenever the way a figure is computed from the same definitions and query changes
/// (aggregation, averages, streaks): figures stored by an older program are then not used.
const STORE_VERSION: &str = "1";

/// Stored figures not recomputed for this long are deleted when others are saved, so the
/// contexts asked once (a period, a scope) do not pile up.
const KEEP_DAYS: i64 = 90;

/// One indicator of a ledger: its definition, measure and own query.
pub(crate) type Member<'a> = (&'a IndicatorDef, &'a Measure, &'a GroupedSql);

/// What was stored and what the counts say now, for one roll-up.
pub(crate) struct Store {
    context: String,
    counted: HashSet<String>,
    /// (ledger table, group) → sum of the change counts of the records under the group.
    counts: HashMap<(String, i64), i64>,
    places_changes: i64,
    household_moves: i64,
    /// (ledger key, group) → (definitions digest, fingerprint, figures).
    stored: HashMap<(String, i64), (String, String, Vec<i64>)>,
}

/// One ledger's share of a roll-up: the figures still current, and the groups to compute.
pub(crate) struct Split {
    pub(crate) digest: String,
    /// Figures per group, one per indicator in the ledger's member order.
    pub(crate) fresh: BTreeMap<i64, Vec<i64>>,
    pub(crate) stale: Vec<i64>,
}

/// A (ledger, group) computed now, to be stored.
pub(crate) struct Entry {
    pub(crate) ledger: String,
    pub(crate) digest: String,
    pub(crate) group: i64,
    pub(crate) fingerprint: String,
    pub(crate) figures: Vec<i64>,
}

impl Store {
    /// Reads the counts and the stored figures; `None` on PostgreSQL. Call it before reading
    /// any record in `tx`.
    pub(crate) async fn load(tx: &mut Tx, ctx: &Context, level: PlaceLevel) -> Result<Option<Store>> {
        if tx.engine() != Engine::Sqlite {
            return Ok(None);
        }
        let context = format!("{}|{}|{}|{}|{}", level.key(), ctx.scope.path, ctx.period.start, ctx.period.end, ctx.as_of);
        let counted = changes::counted_tables(tx).await?;
        let map = eval::place_map_cte("group_of", level, " WHERE p.path LIKE $1");
        let sql = format!(
            "WITH {} SELECT c.entity, g.id, SUM(c.n) FROM change_counts c JOIN group_of g ON g.pid = c.place_id \
             WHERE c.entity LIKE 'ld\\_%' ESCAPE '\\' GROUP BY c.entity, g.id",
            map.trim_start_matches(", ")
        );
        let counts = tx.fetch(&sql, &[ctx.scope.arg()]).await?.iter().map(|r| ((r.text(0), r.int(1)), r.int(2))).collect();
        let mut globals = HashMap::new();
        for r in tx.fetch("SELECT entity, SUM(n) FROM change_counts WHERE entity IN ('places', 'persons') GROUP BY entity", &[]).await? {
            globals.insert(r.text(0), r.int(1));
        }
        let mut stored = HashMap::new();
        for r in tx
            .fetch("SELECT ledger, group_id, definitions, fingerprint, figures FROM rollup_store WHERE context = $1", &[context.as_str().into()])
            .await?
        {
            // Figures that do not parse are treated as absent, and recomputed.
            if let Ok(figures) = serde_json::from_str::<Vec<i64>>(&r.text(4)) {
                stored.insert((r.text(0), r.int(1)), (r.text(2), r.text(3), figures));
            }
        }
        Ok(Some(Store {
            context,
            counted,
            counts,
            places_changes: globals.get("places").copied().unwrap_or(0),
            household_moves: globals.get("persons").copied().unwrap_or(0),
            stored,
        }))
    }

    /// Uses none of the stored figures (they are still replaced by those computed now).
    pub(crate) fn forget(&mut self) {
        self.stored.clear();
    }

    /// The fingerprint of a ledger's records under a group, now: "ledger/places/persons".
    pub(crate) fn fingerprint(&self, def: &LedgerDef, members: &[Member<'_>], group: i64) -> String {
        let households = def.subject == SubjectKind::Person && members.iter().any(|(_, m, _)| matches!(m, Measure::DistinctHouseholds));
        format!(
            "{}/{}/{}",
            self.counts.get(&(def.table_name(), group)).copied().unwrap_or(0),
            self.places_changes,
            if households { self.household_moves } else { 0 }
        )
    }

    /// Which of `groups` have current figures for this ledger's indicators, and which not.
    pub(crate) fn split(&self, def: &LedgerDef, members: &[Member<'_>], groups: &[i64]) -> Split {
        let digest = digest(def, members);
        let mut fresh = BTreeMap::new();
        let mut stale = Vec::new();
        let counted = self.counted.contains(&def.table_name());
        for &g in groups {
            match self.stored.get(&(def.key.clone(), g)) {
                Some((d, fp, figures)) if counted && *d == digest && *fp == self.fingerprint(def, members, g) && figures.len() == members.len() => {
                    fresh.insert(g, figures.clone());
                }
                _ => stale.push(g),
            }
        }
        Split { digest, fresh, stale }
    }

    /// Whether figures of this ledger may be stored at all.
    pub(crate) fn keeps(&self, def: &LedgerDef) -> bool {
        self.counted.contains(&def.table_name())
    }

    /// Stores figures computed now. Keeping them is an optimisation, so nothing here fails the
    /// roll-up, and nothing waits: when another process holds the write lock (a long import),
    /// the figures are simply not kept this time. (The roll-up runs to completion in the CLI;
    /// a future dropped between the two pragmas would leave its connection without a busy
    /// timeout.)
    pub(crate) async fn save(&self, db: &Db, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        let Ok(mut tx) = db.read().await else { return };
        if tx.exec_script("PRAGMA busy_timeout = 0").await.is_err() {
            return;
        }
        let written = write(&mut tx, &self.context, entries).await;
        let reset = tx.exec_script(&format!("PRAGMA busy_timeout = {}", taizhang_storage::backend::BUSY_TIMEOUT_MS)).await;
        if written.is_ok() && reset.is_ok() {
            // A failed commit leaves the figures unstored, which is all it means here.
            let _ = tx.commit().await;
        }
    }
}

async fn write(tx: &mut Tx, context: &str, entries: &[Entry]) -> Result<()> {
    const PER_ROW: usize = 7;
    let now = chrono::Utc::now();
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    tx.exec("DELETE FROM rollup_store WHERE saved_at < $1", &[Arg::Text(stamp(now - chrono::Duration::days(KEEP_DAYS)))]).await?;
    for part in entries.chunks(1_000) {
        let mut args = Vec::with_capacity(part.len() * PER_ROW);
        let mut tuples = Vec::with_capacity(part.len());
        for e in part {
            tuples.push(format!("({})", tx.placeholders(args.len() + 1, PER_ROW)));
            args.push(Arg::Text(context.to_string()));
            args.push(Arg::Text(e.ledger.clone()));
            args.push(Arg::Text(e.digest.clone()));
            args.push(Arg::Int(e.group));
            args.push(Arg::Text(e.fingerprint.clone()));
            args.push(Arg::Text(serde_json::to_string(&e.figures).unwrap_or_default()));
            args.push(Arg::Text(stamp(now)));
        }
        let sql = format!(
            "INSERT INTO rollup_store (context, ledger, definitions, group_id, fingerprint, figures, saved_at) VALUES {} \
             ON CONFLICT (context, ledger, group_id) DO UPDATE SET definitions = excluded.definitions, \
             fingerprint = excluded.fingerprint, figures = excluded.figures, saved_at = excluded.saved_at",
            tuples.join(", ")
        );
        tx.exec(&sql, &args).await?;
    }
    Ok(())
}

/// A digest of the ledger's definition, its indicators' and their own queries, in order, and
/// of the store's version: figures stored under anything else are not used.
fn digest(def: &LedgerDef, members: &[Member<'_>]) -> String {
    let mut h = Sha256::new();
    h.update(STORE_VERSION);
    h.update([0]);
    h.update(serde_json::to_vec(def).unwrap_or_default());
    for (ind, _, q) in members {
        h.update([0]);
        h.update(serde_json::to_vec(ind).unwrap_or_default());
        h.update([0]);
        h.update(&q.sql);
        for a in &q.args {
            h.update([0]);
            h.update(eval::literal(Engine::Sqlite, a));
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
