//! Change counts: per table and place, how many times rows lying there were written.
//!
//! On SQLite, triggers count every insert, update and delete of a ledger's records in the
//! writing transaction itself (the registry's triggers are in migration 0002), whoever writes:
//! the web application, an import, the demo builder or a hand-typed statement. The counts only
//! grow, so anything derived from a place's records and stored with the counts it was derived
//! at is current exactly while those counts stand (`reports::stored` keeps roll-up figures so).
//!
//! Not counted, because SQLite fires no delete trigger for them: rows replaced by a hand-typed
//! `INSERT OR REPLACE` (the new row is counted, the old place is not). The application never
//! replaces rows.
//!
//! PostgreSQL has no such triggers: its roll-up is computed afresh each time and meets its goal
//! that way, and counters updated in place would make concurrent writers to one village wait on
//! each other's transactions.

use std::collections::HashSet;

use crate::backend::Tx;
use crate::error::Result;
use crate::Engine;

/// Each trigger: its name's suffix, its event, and the rows whose place it counts (a record
/// moved between villages changes both).
const KINDS: [(&str, &str, &[&str]); 3] =
    [("insert", "INSERT", &["NEW"]), ("update", "UPDATE", &["OLD", "NEW"]), ("delete", "DELETE", &["OLD"])];

fn trigger_name(table: &str, kind: &str) -> String {
    format!("{table}_counted_{kind}")
}

fn bump(table: &str, row: &str) -> String {
    format!(
        "INSERT INTO change_counts (entity, place_id, n) VALUES ('{table}', {row}.place_id, 1) \
         ON CONFLICT (entity, place_id) DO UPDATE SET n = n + 1;"
    )
}

/// The triggers counting writes to ledger table `table` (an identifier made from a validated
/// ASCII key, never user text); nothing on PostgreSQL. For a table being created, in the same
/// script.
pub(crate) fn ddl(engine: Engine, table: &str) -> String {
    if engine != Engine::Sqlite {
        return String::new();
    }
    let mut s = String::new();
    for (kind, event, rows) in KINDS {
        let body: Vec<String> = rows.iter().map(|row| bump(table, row)).collect();
        s.push_str(&format!(
            "CREATE TRIGGER IF NOT EXISTS {} AFTER {event} ON {table} BEGIN {} END;\n",
            trigger_name(table, kind),
            body.join(" ")
        ));
    }
    s
}

/// Ledger tables whose writes are all counted (every trigger present). Empty on PostgreSQL.
pub async fn counted_tables(tx: &mut Tx) -> Result<HashSet<String>> {
    if tx.engine() != Engine::Sqlite {
        return Ok(HashSet::new());
    }
    let names: HashSet<String> = tx
        .fetch("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'ld\\_%\\_counted\\_%' ESCAPE '\\'", &[])
        .await?
        .iter()
        .map(|r| r.text(0))
        .collect();
    // A trigger goes with its table when the table is dropped, so the triggers name the tables.
    let tables = names.iter().filter_map(|n| n.strip_suffix("_counted_insert"));
    Ok(tables.filter(|t| KINDS.iter().all(|(k, _, _)| names.contains(&trigger_name(t, k)))).map(String::from).collect())
}

/// Makes sure the writes to each of these ledger tables are counted (SQLite; nothing on
/// PostgreSQL). A table that gets its triggers here (new, created before the counts existed,
/// or whose triggers someone dropped) may have been written uncounted: whatever figures were
/// stored from it are deleted in the same transaction.
pub async fn ensure_counted(tx: &mut Tx, tables: &[String]) -> Result<()> {
    if tx.engine() != Engine::Sqlite {
        return Ok(());
    }
    let have = counted_tables(tx).await?;
    for t in tables.iter().filter(|t| !have.contains(*t)) {
        tx.exec_script(&ddl(Engine::Sqlite, t)).await?;
        let ledger = t.strip_prefix("ld_").unwrap_or(t);
        tx.exec("DELETE FROM rollup_store WHERE ledger = $1", &[ledger.into()]).await?;
    }
    Ok(())
}
